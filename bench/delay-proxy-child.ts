// A loopback TCP proxy that holds every chunk for a fixed delay in each direction: a database "across a
// network" (2 ms each way = a 4 ms round trip, as within one AWS region). Alone in its process so that
// its timers do not share an event loop with the clients or the app. Order is kept: every chunk of a
// direction waits the same delay, and Node runs timers of equal duration in the order they were set.
import { createConnection, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { announceReady, serveIpc } from "./lib/ipc";

const [host, port, delayMs] = [process.env.TARGET_HOST ?? "127.0.0.1", Number(process.env.TARGET_PORT), Number(process.env.DELAY_MS ?? 2)];

function pipeDelayed(from: Socket, to: Socket): void {
  from.on("data", (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
  from.on("end", () => setTimeout(() => to.end(), delayMs));
  from.on("error", () => to.destroy());
  from.on("close", () => setTimeout(() => to.destroy(), delayMs));
}

const sockets = new Set<Socket>();
const server = createServer((client) => {
  client.setNoDelay(true);
  const upstream = createConnection({ host, port });
  upstream.setNoDelay(true);
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  }
  pipeDelayed(client, upstream);
  pipeDelayed(upstream, client);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

serveIpc({
  stop: async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
announceReady((server.address() as AddressInfo).port);
