import type { Server } from "node:net";

/** The address is taken or not ours to bind: said in words, with the setting that fixes it. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "ListenError";
  }
}

/**
 * Binds `server` to host:port, turning the errors a first run meets (EADDRINUSE, EACCES,
 * EADDRNOTAVAIL) into a ListenError whose message names PORT or HOST, instead of a stack trace.
 */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(explain(e, port, host));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function explain(e: NodeJS.ErrnoException, port: number, host: string): Error {
  const where = `${host}:${port}`;
  switch (e.code) {
    case "EADDRINUSE":
      return new ListenError(
        `Port ${port} on ${host} is already in use (another \`npm start\`?). ` +
          `Stop that process, or set PORT to a free port: PORT=${port === 65535 ? 3001 : port + 1} npm start`,
        e.code,
      );
    case "EACCES":
      return new ListenError(`Not allowed to listen on ${where}: set PORT to a port above 1023 (for example PORT=3000)`, e.code);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new ListenError(`${host} is not an address of this machine: set HOST (for example HOST=127.0.0.1, or HOST=0.0.0.0 for every interface)`, e.code);
    default:
      return e;
  }
}
