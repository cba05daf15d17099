// The Groq stand-in, alone in its process so that neither the client nor the app pays for it: the
// shared loopback fixture (tests/fixtures/groq-server.ts), scripted with fixed delays.
import { startGroqServer } from "../tests/fixtures/groq-server";
import { scriptSteps, type StreamScript } from "./lib/script";
import { announceReady, monotonicMs, serveIpc } from "./lib/ipc";

const groq = await startGroqServer();

// When each request arrived (CLOCK_MONOTONIC ms, comparable across processes): the fixture pushes a
// record as soon as it has read a request's body. Lets the bench split added latency into "the call
// reached Groq later" and "the first token came back later".
const arrivals: number[] = [];
const push = groq.requests.push;
groq.requests.push = function (...items) {
  arrivals.push(monotonicMs());
  if (arrivals.length > 10_000) arrivals.splice(0, 5_000);
  return push.apply(this, items);
};

serveIpc({
  enqueue: (s: StreamScript) => {
    const steps = scriptSteps(s);
    for (let i = 0; i < s.count; i++) groq.enqueue({ steps });
    // The fixture records every request; the bench never reads them back, so keep memory flat.
    groq.requests.length = 0;
    return s.count;
  },
  /** Arrival times of the last `n` requests. */
  arrivals: (n: number) => arrivals.slice(-n),
  cpu: () => process.cpuUsage(),
  stop: () => groq.close(),
});
announceReady(groq.url);
