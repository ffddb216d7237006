/**
 * A monotonic clock in milliseconds that every thread and process on the machine
 * shares: performance.now() shifted onto the system-wide hrtime clock once, so a
 * send time taken in one worker thread compares with a receive time in another
 * without allocating per call.
 */
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** Milliseconds on the shared monotonic clock. */
export function now(): number {
  return performance.now() + offset;
}
