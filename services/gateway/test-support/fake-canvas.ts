import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PixelBatchSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import type { MemoryPixelBus } from "../../shared/pixel-bus.js";
import type { AuthorRun, CanvasClient, CanvasHead, CanvasSnapshot, RunResult, StoredWrite } from "../upstream/canvas-client.js";
import type { RecentBatchesRequest } from "../upstream/canvas-history.js";

/**
 * An in-memory canvas service for gateway unit tests: it stores, sequences and
 * publishes on a MemoryPixelBus like the real one, and can be told to fail.
 */
export class FakeCanvasService implements CanvasClient {
  private readonly canvases = new Map<string, { seq: bigint; epoch: bigint; pixels: Uint8Array }>();
  /** When set, SetPixels rejects with this code. */
  failWith: Code | undefined;
  /** When set, decides each AuthorRun of a SetPixels call (default: every run stored); refused runs are left out of the batch. */
  decideRun: ((run: AuthorRun) => RunResult) | undefined;
  setPixelsCalls = 0;
  /** When set, recentBatches rejects with this code (history gone, deadline...). */
  historyFailsWith: Code | undefined;
  /** Every batch published, per canvas, as the history stream would hold it. */
  private readonly history = new Map<string, Uint8Array[]>();
  /** SetPixels calls waiting on {@link holdWrites}' gate right now: writes that are in flight. */
  heldWrites = 0;
  private gate: Promise<void> | undefined;
  private historyGate: Promise<void> | undefined;

  constructor(
    private readonly bus: MemoryPixelBus,
    readonly width: number,
    readonly height: number,
    canvasIds: string[] = ["default"],
  ) {
    for (const id of canvasIds) this.canvases.set(id, { seq: 0n, epoch: 1n, pixels: new Uint8Array(width * height * 3) });
  }

  async getCanvas(canvasId: string): Promise<CanvasSnapshot> {
    const c = this.canvases.get(canvasId);
    if (!c) throw new ConnectError(`canvas ${canvasId} not found`, Code.NotFound);
    return { canvasId, width: this.width, height: this.height, seq: c.seq, epoch: c.epoch, pixels: c.pixels.slice() };
  }

  async getHead(canvasId: string): Promise<CanvasHead> {
    const { pixels: _pixels, ...head } = await this.getCanvas(canvasId);
    return head;
  }

  /**
   * Holds every SetPixels from now on before it stores anything, so a test can act while writes are
   * in flight; the returned function lets them (and later ones) through.
   */
  holdWrites(): () => void {
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    return () => {
      this.gate = undefined;
      open();
    };
  }

  /**
   * Holds every history read from now on (a slow WatchCanvas on a busy canvas); the returned
   * function lets them (and later ones) through. The batches are chosen when a read is released.
   */
  holdHistory(): () => void {
    let open!: () => void;
    this.historyGate = new Promise<void>((resolve) => (open = resolve));
    return () => {
      this.historyGate = undefined;
      open();
    };
  }

  async setPixels(canvasId: string, allPixels: PixelLike[], author: string, _timeoutMs?: number, authors: AuthorRun[] = []): Promise<StoredWrite> {
    this.setPixelsCalls++;
    if (this.gate) {
      this.heldWrites++;
      await this.gate;
      this.heldWrites--;
    }
    if (this.failWith !== undefined) throw new ConnectError("injected failure", this.failWith);
    const c = this.canvases.get(canvasId);
    if (!c) throw new ConnectError(`canvas ${canvasId} not found`, Code.NotFound);
    const results = authors.map((run) => this.decideRun?.(run) ?? { stored: true, retryAfterMs: 0 });
    let at = 0;
    const pixels = authors.length === 0 ? allPixels : authors.flatMap((run, i) => allPixels.slice(at, (at += run.pixelCount)).filter(() => results[i]!.stored));
    if (pixels.length === 0) return { seq: c.seq, epoch: c.epoch, results };
    for (const p of pixels) {
      const i = (p.y * this.width + p.x) * 3;
      c.pixels.set([(p.color >> 16) & 0xff, (p.color >> 8) & 0xff, p.color & 0xff], i);
    }
    c.seq++;
    // As the canvas service: only stored runs are published, and never with their network key.
    const published = authors.filter((_, i) => results[i]!.stored).map(({ userId, name, pixelCount }) => ({ userId, name, pixelCount }));
    const batch = create(PixelBatchSchema, { canvasId, seq: c.seq, epoch: c.epoch, pixels, author, authors: published, timeUnixMs: BigInt(Date.now()) });
    const payload = toBinary(PixelBatchSchema, batch);
    this.history.set(canvasId, [...(this.history.get(canvasId) ?? []), payload]);
    this.bus.publish(canvasId, payload);
    return { seq: c.seq, epoch: c.epoch, results };
  }

  /** The stored batches (afterSeq, throughSeq], like WatchCanvas replaying the history stream (one epoch only). */
  async recentBatches(req: RecentBatchesRequest): Promise<Uint8Array[]> {
    if (this.historyGate) await this.historyGate;
    if (this.historyFailsWith !== undefined) throw new ConnectError("injected history failure", this.historyFailsWith);
    const all = this.history.get(req.canvasId) ?? [];
    // Seq n is all[n - 1]: the fake never changes epoch.
    const batches = all.slice(Number(req.afterSeq), Number(req.throughSeq));
    // As readRecentBatches: the oldest are dropped past maxBytes, but at least one batch is kept.
    let bytes = batches.reduce((sum, b) => sum + b.length, 0);
    while (batches.length > 1 && bytes > req.maxBytes) bytes -= batches.shift()!.length;
    return batches;
  }

  async isReachable(): Promise<boolean> {
    return true;
  }
}
