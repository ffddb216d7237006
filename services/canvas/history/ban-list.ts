/** One user barred from placing pixels (pixel.v1.Ban). */
export interface BanRecord {
  userId: string;
  reason: string;
  /** The admin credential's name. */
  bannedBy: string;
  createdMs: number;
  /** When the ban ends by itself; undefined means until lifted. */
  expiresMs?: number;
}

/**
 * The bans in force, shared by every canvas replica: stored in Redis (redis-ban-list.ts) or in
 * memory for the embedded default. Every replica keeps the whole set in memory, loaded at start and
 * refreshed at once when any replica changes it, so the write path checks a ban without a round trip.
 */
export interface BanList {
  /** Loads the bans and starts following changes; resolves once the set is loaded. */
  start(): Promise<void>;
  /** The ban in force for a user now, from the in-memory set; undefined when none (or it has expired). */
  banOf(userId: string): BanRecord | undefined;
  /** Stores (or replaces) a ban and tells every replica. */
  ban(record: BanRecord): Promise<void>;
  /** Lifts a ban and tells every replica; true when one was in force. */
  unban(userId: string): Promise<boolean>;
  /** Every ban in force, newest first. */
  list(): Promise<BanRecord[]>;
  /** Stops following changes and releases connections. */
  close(): Promise<void>;
}

/** True while a ban is in force at `now`. */
export function inForce(ban: BanRecord, now = Date.now()): boolean {
  return ban.expiresMs === undefined || ban.expiresMs > now;
}

/** Bans in force, newest first. */
export function bansInForce(bans: Iterable<BanRecord>, now = Date.now()): BanRecord[] {
  return [...bans].filter((b) => inForce(b, now)).sort((a, z) => z.createdMs - a.createdMs || a.userId.localeCompare(z.userId));
}

/** The bans of a single process (the embedded default, tests). */
export class MemoryBanList implements BanList {
  private readonly bans = new Map<string, BanRecord>();

  async start(): Promise<void> {}

  banOf(userId: string): BanRecord | undefined {
    const ban = this.bans.get(userId);
    if (ban === undefined) return undefined;
    if (inForce(ban)) return ban;
    this.bans.delete(userId);
    return undefined;
  }

  async ban(record: BanRecord): Promise<void> {
    this.bans.set(record.userId, record);
  }

  async unban(userId: string): Promise<boolean> {
    const was = this.banOf(userId) !== undefined;
    this.bans.delete(userId);
    return was;
  }

  async list(): Promise<BanRecord[]> {
    return bansInForce(this.bans.values());
  }

  async close(): Promise<void> {}
}
