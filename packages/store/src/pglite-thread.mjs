// PGlite in a worker thread: the WASM PostgreSQL runs here, off the server's event loop. It only
// executes protocol messages; the driver (sql.ts) prepares, batches, parses and orders them on the
// main thread. Plain JavaScript so that it loads the same way under tsx, vitest and node.
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";

const { dataDir, image } = workerData;
const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...(image ? { loadDataDir: new Blob([image]) } : {}) });

parentPort.on("message", async ({ op, bytes, syncToFs }) => {
  try {
    if (op === "exec") {
      // The raw response bytes, unparsed: the main thread parses them. Each chunk is a view into
      // the WASM heap, so it is copied as it arrives.
      const chunks = [];
      await db.execProtocolRawStream(bytes, { syncToFs, onRawData: (chunk) => chunks.push(chunk.slice()) });
      // One chunk (the usual case) goes as it is; several are joined into a buffer of their own to transfer.
      const out = chunks.length === 1 ? chunks[0] : new Uint8Array(Buffer.concat(chunks));
      parentPort.postMessage({ ok: true, data: out }, [out.buffer]);
    } else if (op === "dump") {
      const out = new Uint8Array(await (await db.dumpDataDir("none")).arrayBuffer());
      parentPort.postMessage({ ok: true, data: out }, [out.buffer]);
    } else if (op === "close") {
      await db.close();
      parentPort.postMessage({ ok: true });
    } else throw new Error(`unknown op ${op}`);
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
