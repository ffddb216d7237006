import type { Logger } from "./logger.js";
import { SHUTDOWN_GRACE_MS } from "./timing.js";

/**
 * The drain every service entry point runs on its first SIGTERM or SIGINT (later ones are
 * ignored): logs "draining", runs `drain`, then logs "stopped" and exits 0, or logs the failure
 * and exits 1. If SHUTDOWN_GRACE_MS passes first, it exits with `lateExitCode` whatever is left.
 */
export function drainOnSignal(log: Logger, drain: () => Promise<unknown>, lateExitCode: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "draining");
    setTimeout(() => {
      log.warn("shutdown took longer than SHUTDOWN_GRACE_MS; exiting");
      process.exit(lateExitCode);
    }, SHUTDOWN_GRACE_MS).unref();
    drain().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
