import { pino, type Logger } from "pino";

export type { Logger };

/** Creates the structured JSON logger of one service; LOG_LEVEL sets the level. */
export function createLogger(service: string, level = process.env.LOG_LEVEL || "info"): Logger {
  return pino({ level, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
