// Loaded with NODE_OPTIONS=--import (where --cpu-prof is not allowed): profiles the main thread of
// each process from start to exit and writes <CPU_PROFILE_DIR>/<pid>.cpuprofile. The main thread
// only; the inspector session is synchronous, so the profile is written from the exit handler.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { isMainThread } from "node:worker_threads";

const dir = process.env.CPU_PROFILE_DIR;
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  process.once("exit", () => {
    session.post("Profiler.stop", (err, res) => {
      if (!err) writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(res.profile));
    });
  });
}
