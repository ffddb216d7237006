/**
 * Preloaded into server processes by the harness's `--profile` flag (NODE_OPTIONS=--import=…,
 * since `--cpu-prof` is not allowed in NODE_OPTIONS): starts the V8 sampling profiler and
 * writes `CPU.<pid>.cpuprofile` into BENCH_PROFILE_DIR when the process exits.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  process.once("exit", () => {
    // The in-thread inspector answers synchronously, so this completes inside the exit handler.
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
