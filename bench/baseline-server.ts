// Figure 4's baseline: a bare node:http server on a loopback port answering with canned bodies of the
// same size as the app's (no routing, auth, validation or database), in its own process like the app.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { announceReady, serveIpc } from "./lib/ipc";

const bodies = { get: Buffer.from("{}"), post: Buffer.from("{}") };

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  if (req.method === "POST") {
    // Read the request body, as the app must.
    req.resume();
    req.on("end", () => {
      res.writeHead(201, { "content-type": "application/json", "content-length": bodies.post.length });
      res.end(bodies.post);
    });
    return;
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": bodies.get.length });
  res.end(bodies.get);
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

serveIpc({
  bodies: (b: { get: string; post: string }) => {
    bodies.get = Buffer.from(b.get);
    bodies.post = Buffer.from(b.post);
    return { get: bodies.get.length, post: bodies.post.length };
  },
  stop: async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
announceReady(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
