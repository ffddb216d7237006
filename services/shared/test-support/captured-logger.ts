import { Writable } from "node:stream";
import { pino, type Level } from "pino";
import type { Logger } from "../logger.js";

/** A logger whose JSON lines are kept in `lines`, parsed, so a test can assert what was logged. */
export function capturedLogger(level: Level = "info"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
