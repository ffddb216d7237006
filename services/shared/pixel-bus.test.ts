import { describe, expect, it } from "vitest";
import { MemoryPixelBus } from "./pixel-bus.js";

describe("MemoryPixelBus", () => {
  it("is ready at once and delivers what is published after", async () => {
    const bus = new MemoryPixelBus();
    const heard: Uint8Array[] = [];
    const sub = bus.subscribe("default", (p) => heard.push(p));
    await sub.ready;
    bus.publish("default", new Uint8Array([1]));
    await Promise.resolve();
    expect(heard).toHaveLength(1);
    sub();
  });
});
