import { describe, expect, it } from "vitest";
import { FakeSocket } from "../test-support/test-helpers.js";
import { Outbox, type OverflowReason } from "./outbox.js";

const bounds = { slowConsumerBytes: 1_000, sendBufferMaxBytes: 3_000, stalledSocketCloseMs: 50 };

function setup() {
  const socket = new FakeSocket(true);
  const overflows: OverflowReason[] = [];
  const outbox = new Outbox(socket, bounds, (reason) => overflows.push(reason));
  return { socket, outbox, overflows };
}

describe("Outbox", () => {
  it("pauses reads once the queue passes midway between the slow-consumer bound and the cap, to resume at the slow-consumer bound", () => {
    const { socket, outbox, overflows } = setup();
    expect(outbox.write(new Uint8Array(2_000))).toBe(true);
    expect(socket.readsPaused).toBeUndefined();
    expect(outbox.write(new Uint8Array(1))).toBe(true);
    expect(socket.readsPaused?.resumeAtBytes).toBe(1_000);
    // A queue that never drains: the socket gives up on it.
    socket.readsPaused!.stalled();
    expect(overflows).toEqual(["not_reading"]);
  });

  it("does not write a frame that would pass the cap, and reports the overflow", () => {
    const { socket, outbox, overflows } = setup();
    expect(outbox.write(new Uint8Array(2_900))).toBe(true);
    expect(outbox.write(new Uint8Array(101))).toBe(false);
    expect(socket.queuedBytes).toBe(2_900);
    expect(overflows).toEqual(["send_buffer_full"]);
  });
});
