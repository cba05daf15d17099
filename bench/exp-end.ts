import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forkTs } from "./lib/ipc";
import { startOurs } from "./lib/servers";
import { added, directSubject, measureRounds, ourSettings, ourSubject } from "./figures/peers";
const groq = forkTs("groq-child.ts");
const groqUrl = (await groq.ready) as string;
const variants: Record<string, Record<string, string>> = JSON.parse(process.argv[2] ?? "{}");
const servers = [];
const subjects = [directSubject(groqUrl)];
for (const [label, extra] of Object.entries(variants)) {
  const s = await startOurs(ourSettings(groqUrl, mkdtempSync(join(tmpdir(), "exp-")), extra));
  servers.push(s);
  subjects.push(await ourSubject(label, s));
}
const rs = await measureRounds(groq, subjects, Number(process.argv[3] ?? 15), 3);
for (const s of subjects.slice(1)) console.log(s.label, "ttft", added(rs, s.label, (t) => t.ttft).toFixed(2), "end", added(rs, s.label, (t) => t.total).toFixed(2), "end-ttft", added(rs, s.label, (t) => t.total - t.ttft).toFixed(2));
await Promise.all(servers.map((s) => s.stop()));
await groq.stop();
