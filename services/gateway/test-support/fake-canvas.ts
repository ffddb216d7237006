import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PixelBatchSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import type { MemoryPixelBus } from "../../shared/pixel-bus.js";
import type { CanvasClient, CanvasHead, CanvasSnapshot } from "../upstream/canvas-client.js";

/**
 * An in-memory canvas service for gateway unit tests: it stores, sequences and
 * publishes on a MemoryPixelBus like the real one, and can be told to fail.
 */
export class FakeCanvasService implements CanvasClient {
  private readonly canvases = new Map<string, { seq: bigint; epoch: bigint; pixels: Uint8Array }>();
  /** When set, SetPixels rejects with this code. */
  failWith: Code | undefined;
  setPixelsCalls = 0;
  /** SetPixels calls waiting on {@link holdWrites}' gate right now: writes that are in flight. */
  heldWrites = 0;
  private gate: Promise<void> | undefined;

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

  async setPixels(canvasId: string, pixels: PixelLike[], author: string): Promise<{ seq: bigint; epoch: bigint }> {
    this.setPixelsCalls++;
    if (this.gate) {
      this.heldWrites++;
      await this.gate;
      this.heldWrites--;
    }
    if (this.failWith !== undefined) throw new ConnectError("injected failure", this.failWith);
    const c = this.canvases.get(canvasId);
    if (!c) throw new ConnectError(`canvas ${canvasId} not found`, Code.NotFound);
    for (const p of pixels) {
      const i = (p.y * this.width + p.x) * 3;
      c.pixels.set([(p.color >> 16) & 0xff, (p.color >> 8) & 0xff, p.color & 0xff], i);
    }
    c.seq++;
    const batch = create(PixelBatchSchema, { canvasId, seq: c.seq, epoch: c.epoch, pixels, author, timeUnixMs: BigInt(Date.now()) });
    this.bus.publish(canvasId, toBinary(PixelBatchSchema, batch));
    return { seq: c.seq, epoch: c.epoch };
  }

  async isReachable(): Promise<boolean> {
    return true;
  }
}
