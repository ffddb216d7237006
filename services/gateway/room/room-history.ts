import type { Logger } from "../../shared/logger.js";
import type { CanvasHead } from "../upstream/canvas-client.js";
import type { BatchRing } from "./batch-ring.js";
import { ringSeed } from "./ring-seed.js";

/**
 * A canvas head and the stored batches leading up to it (oldest first, ending at its seq), which
 * seed the resume ring: clients that were on another gateway resume here instead of reading
 * their tiles again. History that does not chain onto the head is ignored. A promise of history
 * read (a function) is started in the background, after HISTORY_SEED_DELAY_MS or when `seeded` is
 * first asked for: the room goes live at the head at once and puts the history before the
 * batches it applied meanwhile when it arrives.
 */
export interface RoomSnapshot extends CanvasHead {
  history?: readonly Uint8Array[] | (() => Promise<readonly Uint8Array[]>);
}

/**
 * How long a room just opened waits before it reads its history (unless a reconnecting client asks
 * for it first): reading hundreds of large batches costs the canvas service and this gateway
 * seconds of CPU, which would otherwise land on the crowd of new clients that opened the room
 * while they read their tiles.
 */
export const HISTORY_SEED_DELAY_MS = 2_000;

/** What the seeding needs of its room. */
export interface SeededRoom {
  readonly canvasId: string;
  /** The room's seq now (the ring ends there). */
  readonly seq: bigint;
  readonly disposed: boolean;
}

/**
 * Seeds a room's resume ring from each installed snapshot's history, in the background or at
 * once, and drops history that arrives for a snapshot the room has since replaced.
 */
export class RoomHistory {
  /** Counts installed snapshots, so history arriving for an older one is dropped. */
  private generation = 0;
  /** Starts (once) the history read of the latest snapshot and settles when it was seeded or given up on. */
  private seeding: () => Promise<void> = () => Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly room: SeededRoom,
    private readonly ring: BatchRing,
    private readonly log: Logger,
  ) {}

  /** See CanvasRoom.seeded. */
  get seeded(): Promise<void> {
    return this.seeding();
  }

  /** A snapshot was installed (the ring was just cleared): seed from its history, now or in the background. */
  installed(snap: RoomSnapshot, columns: number): void {
    this.generation++;
    const history = snap.history;
    clearTimeout(this.timer);
    if (typeof history === "function") {
      const generation = this.generation;
      let started: Promise<void> | undefined;
      // Rejections are the caller's to log; a room without history only answers resumes with snapshots.
      this.seeding = () =>
        (started ??= history().then(
          (batches) => {
            if (this.generation === generation && !this.room.disposed) this.seedRing(snap, batches, columns);
          },
          () => undefined,
        ));
      this.timer = setTimeout(() => void this.seeding(), HISTORY_SEED_DELAY_MS);
      this.timer.unref();
    } else {
      this.seeding = () => Promise.resolve();
      this.seedRing(snap, history ?? [], columns);
    }
  }

  /** Stops a pending background read from starting (the room is disposed). */
  stop(): void {
    clearTimeout(this.timer);
  }

  /**
   * Puts the snapshot's history before the ring's frames when it chains onto the snapshot (see
   * ringSeed). The ring then holds the batches since the snapshot (applied while the history was
   * read, when it was read in the background), so the history chains onto them unless the ring
   * already evicted some of those; the ring is left as it was when it does not.
   */
  private seedRing(snap: RoomSnapshot, history: readonly Uint8Array[], columns: number): void {
    if (history.length === 0) return;
    const canvasId = this.room.canvasId;
    const seed = ringSeed(history, snap, columns);
    if (!seed.ok) {
      this.log.warn({ canvasId, ...seed.detail }, `${seed.reason}; resume ring not seeded`);
      return;
    }
    const first = seed.entries[0]!.seq;
    if (!this.ring.prepend(first, seed.entries.map((e) => e.entry), this.room.seq)) {
      this.log.warn({ canvasId, seq: String(snap.seq), now: String(this.room.seq) }, "the ring moved past the snapshot's history; resume ring not seeded");
      return;
    }
    this.log.info({ canvasId, from: String(first), to: String(snap.seq) }, "resume ring seeded from the canvas history");
  }
}
