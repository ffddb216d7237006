/** How many failures of one kind are kept word for word; the rest are only counted. */
const KEPT_PER_KIND = 25;

/** Distinct failure shapes counted; more are only counted in their check's total. */
const MAX_SHAPES = 300;

/** A failure message reduced to its shape: no numbers, bytes, coordinates or session names. */
function shapeOf(message: string): string {
  return message
    .replace(/bytes( [0-9a-f]{2})+( … \(\d+ bytes\))?/g, "bytes …")
    .replace(/body \d+ bytes:( [0-9a-f]{2})*( …)?/g, "body …")
    .replace(/\(client_seq \d+: [^)]*\)/g, "(…)")
    .replace(/\((mutated|proto mutated|json mutated)[^)]*\)/g, "($1)")
    .replace(/@\d+/g, "")
    .replace(/\d+/g, "N")
    .slice(0, 300);
}

/** What the fuzz run asserts, one list of failures each. */
export const CHECKS = ["health", "answers", "violations", "api5xx", "h2cInternal", "memory", "canvas"] as const;
export type Check = (typeof CHECKS)[number];

/** Failures per check (bounded) and counters of everything sent and received (bounded by their keys). */
export class FuzzRecord {
  private readonly failures = new Map<Check, { count: number; kept: { message: string; priority: 0 | 1 }[] }>();
  /** Inputs sent, by target and kind (e.g. `ws.mutated`, `api.proto`, `h2c.grpc`). */
  readonly sent = new Map<string, number>();
  /** Answers, by target and code (e.g. `ws.error.MALFORMED_FRAME`, `api.http.400`, `h2c.grpc-status.3`). */
  readonly answers = new Map<string, number>();
  /** Inputs generated but not sent, with why. */
  readonly skipped = new Map<string, number>();
  /** Failures by shape (the message without numbers, bytes and sessions), at most MAX_SHAPES of them. */
  readonly shapes = new Map<string, number>();

  /**
   * Records a failure of `check`. The kept messages are the first ones of the most telling kind:
   * priority 0 (a defect itself) displaces priority 1 (a consequence, e.g. frames cut off by a close).
   */
  fail(check: Check, message: string, priority: 0 | 1 = 0): void {
    const entry = this.failures.get(check) ?? { count: 0, kept: [] };
    entry.count++;
    const shape = `${check}: ${shapeOf(message)}`;
    if (this.shapes.has(shape) || this.shapes.size < MAX_SHAPES) this.count(this.shapes, shape);
    if (entry.kept.length < KEPT_PER_KIND) entry.kept.push({ message, priority });
    else if (priority === 0) {
      const at = entry.kept.findIndex((k) => k.priority === 1);
      if (at >= 0) {
        entry.kept.splice(at, 1);
        entry.kept.push({ message, priority });
      }
    }
    this.failures.set(check, entry);
  }

  /** The kept messages of a check, plus a line counting those left out; empty when it held. */
  failuresOf(check: Check): string[] {
    const entry = this.failures.get(check);
    if (!entry) return [];
    const kept = [...entry.kept.filter((k) => k.priority === 0), ...entry.kept.filter((k) => k.priority === 1)].map((k) => k.message);
    const more = entry.count - kept.length;
    return more > 0 ? [...kept, `… and ${more} more`] : kept;
  }

  /** Failure counts by check. */
  failureCounts(): Record<Check, number> {
    return Object.fromEntries(CHECKS.map((c) => [c, this.failures.get(c)?.count ?? 0])) as Record<Check, number>;
  }

  /** Adds one to a counter. */
  count(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  /** Sum of the counters whose key starts with `prefix`. */
  total(map: Map<string, number>, prefix: string): number {
    let n = 0;
    for (const [k, v] of map) if (k.startsWith(prefix)) n += v;
    return n;
  }
}

/** How one /ws input was answered, per input index, kept in one byte each so a run of millions stays small. */
export const OUTCOME = { unsent: 0, ack: 1, pong: 2, silent: 3, skipped: 4, refused: 5, noAnswer: 6, watching: 7, errorBase: 10 } as const;

/** Describes an outcome byte. */
export function describeOutcome(outcome: number, errorName: (code: number) => string): string {
  switch (outcome) {
    case OUTCOME.unsent: return "never sent";
    case OUTCOME.ack: return "answered with an Ack";
    case OUTCOME.pong: return "answered with a Pong";
    case OUTCOME.silent: return "not answered (a valid SetName)";
    case OUTCOME.skipped: return "skipped";
    case OUTCOME.refused: return "refused with a documented retryable code";
    case OUTCOME.noAnswer: return "never answered";
    case OUTCOME.watching: return "answered with a Watching";
    default: return `answered with Error ${errorName(outcome - OUTCOME.errorBase)}`;
  }
}
