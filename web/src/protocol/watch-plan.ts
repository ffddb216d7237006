import type { TileCoord } from "../../../protocol/tile-grid.js";
import { tilesToWatch } from "../../../protocol/tile-watch.js";
import type { Rect } from "./rect.js";

/** A Watch sent on the current socket and not answered yet. */
export interface SentWatch {
  tiles: TileCoord[];
  /** It asked for a replay from the stream's seq (the first Watch of a socket with kept tiles). */
  resume: boolean;
}

/**
 * Which tiles a client wants (the region on screen, or everything) and which Watches it sent on
 * the current socket: Watching answers them in order, so the client knows which set took effect.
 */
export class WatchPlan {
  private wanted: Rect | "all" | undefined;
  private watched: TileCoord[] | undefined;
  private readonly inFlight: SentWatch[] = [];

  constructor(all: boolean) {
    this.wanted = all ? "all" : undefined;
  }

  /** Wants the tiles under `rect` of a width × height canvas; returns whether that changes the tiles wanted. */
  want(rect: Rect, width: number, height: number): boolean {
    const before = this.tiles(width, height);
    this.wanted = { ...rect };
    return !sameTiles(before, this.tiles(width, height));
  }

  /** The tiles wanted now (none before the canvas size is known, or beyond what one Watch may name). */
  tiles(width: number, height: number): TileCoord[] {
    if (this.wanted === undefined || width === 0) return [];
    const rect = this.wanted === "all" ? { x: 0, y: 0, width, height } : this.wanted;
    return tilesToWatch(width, height, rect) ?? [];
  }

  /** Whether the tiles wanted differ from the last set sent on this socket. */
  changed(width: number, height: number): boolean {
    return this.watched === undefined || !sameTiles(this.watched, this.tiles(width, height));
  }

  /** Records a Watch sent on this socket. */
  sent(watch: SentWatch): void {
    this.watched = watch.tiles;
    this.inFlight.push(watch);
  }

  /** The Watch a Watching answers, or undefined when none is in flight. */
  answered(): SentWatch | undefined {
    return this.inFlight.shift();
  }

  /** A new socket (or a stream that must name its tiles again): nothing was sent on it. */
  reset(): void {
    this.watched = undefined;
    this.inFlight.length = 0;
  }
}

function sameTiles(a: readonly TileCoord[], b: readonly TileCoord[]): boolean {
  return a.length === b.length && a.every((t, i) => t.tx === b[i]!.tx && t.ty === b[i]!.ty);
}
