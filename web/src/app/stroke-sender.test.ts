import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ServerFrameSchema, WelcomeSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { CanvasClient } from "../protocol/canvas-client.js";
import { FakeSocketServer } from "../protocol/test-support/fake-socket.js";
import { ManualClock } from "../protocol/test-support/manual-clock.js";
import { linePixels } from "../protocol/line-pixels.js";
import { STROKE_FLUSH_INTERVAL_MS } from "../protocol/timing.js";
import { StrokeSender, type StrokeRefusal } from "./stroke-sender.js";

function setup(pixelsPerSecond: number, maxPixelsPerPlace: number) {
  const clock = new ManualClock();
  const server = new FakeSocketServer();
  const client = new CanvasClient({ url: "ws://t/ws", socketFactory: server.factory, clock });
  const refusals: StrokeRefusal[] = [];
  const sender = new StrokeSender(client, (r) => refusals.push(r), clock);
  client.start();
  server.last.open();
  server.last.deliver(create(ServerFrameSchema, { frame: { case: "welcome", value: create(WelcomeSchema, { width: 50, height: 50, seq: 1n, epoch: 1n, pixels: new Uint8Array(50 * 50 * 3), maxPixelsPerPlace, pixelsPerSecond }) } }));
  const placed = () => server.last.sent.flatMap((f) => (f.frame.case === "place" ? [f.frame.value.pixels.length] : []));
  return { clock, server, client, sender, refusals, placed };
}

describe("StrokeSender", () => {
  it("sends a click at once and coalesces a drag into few frames within max_pixels_per_place", () => {
    const { clock, sender, placed } = setup(1000, 8);
    sender.add([{ x: 0, y: 0 }], 0xff0000);
    expect(placed()).toEqual([1]);
    for (let x = 1; x < 20; x++) sender.add(linePixels({ x: x - 1, y: 0 }, { x, y: 0 }), 0xff0000);
    expect(placed()).toEqual([1]);
    clock.advance(STROKE_FLUSH_INTERVAL_MS * 3);
    expect(placed()).toEqual([1, 8, 8, 3]);
  });

  it("keeps within the announced pixel rate", () => {
    const { clock, sender, placed } = setup(50, 1000);
    sender.add(linePixels({ x: 0, y: 0 }, { x: 0, y: 49 }), 0x00ff00);
    sender.add(linePixels({ x: 1, y: 0 }, { x: 1, y: 49 }), 0x00ff00);
    expect(placed()).toEqual([50]);
    clock.advance(500);
    expect(placed().reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(76);
    clock.advance(1000);
    expect(placed().reduce((a, b) => a + b, 0)).toBe(100);
  });

  it("skips pixels that already show the colour", () => {
    const { clock, sender, placed } = setup(1000, 100);
    sender.add([{ x: 3, y: 3 }], 0x0000ff);
    clock.advance(STROKE_FLUSH_INTERVAL_MS);
    sender.add([{ x: 3, y: 3 }, { x: 4, y: 3 }], 0x0000ff);
    clock.advance(STROKE_FLUSH_INTERVAL_MS);
    expect(placed()).toEqual([1, 1]);
  });

  it("refuses visibly and drops the stroke when the connection is not live", () => {
    const { sender, server, refusals, placed } = setup(1000, 100);
    server.last.closeFromServer(1006);
    sender.add([{ x: 1, y: 1 }], 0x123456);
    expect(refusals).toEqual([{ ok: false, reason: "not-live", state: "reconnecting" }]);
    expect(sender.queued).toBe(0);
    expect(placed()).toEqual([]);
  });
});
