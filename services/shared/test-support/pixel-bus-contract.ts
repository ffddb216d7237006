import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../tools/process/free-port.js";
import type { PixelBus } from "../pixel-bus.js";

/** A bus under test and a way to publish to it as the canvas store would. */
export interface OpenedPixelBus {
  bus: PixelBus;
  /** Publishes one batch's bytes on a canvas, as the store does after storing it. */
  publish(canvasId: string, payload: Uint8Array): Promise<void>;
  /** Closes the bus and whatever the harness opened to publish. */
  close(): Promise<void>;
}

/**
 * The rules every PixelBus keeps (pixel-bus.ts), as one suite that each implementation's test
 * file runs with its own `open`, so the memory and the Redis bus pass the same cases.
 */
export function describePixelBusContract(name: string, open: () => Promise<OpenedPixelBus>): void {
  describe(`${name} keeps the PixelBus contract`, () => {
    const opened: OpenedPixelBus[] = [];
    const start = async () => {
      const o = await open();
      opened.push(o);
      await waitFor("bus ready", () => o.bus.isReady());
      return o;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });

    it("delivers what is published once a subscription is ready to every listener of that canvas, and only of that canvas", async () => {
      const { bus, publish } = await start();
      const a: number[] = [];
      const b: number[] = [];
      const other: number[] = [];
      const subs = [bus.subscribe("x", (p) => a.push(p[0]!)), bus.subscribe("x", (p) => b.push(p[0]!)), bus.subscribe("y", (p) => other.push(p[0]!))];
      await Promise.all(subs.map((s) => s.ready));
      await publish("x", new Uint8Array([1]));
      await publish("y", new Uint8Array([2]));
      await waitFor("both canvases' batches", () => a.length === 1 && b.length === 1 && other.length === 1, 5_000, 2);
      expect([a, b, other]).toEqual([[1], [1], [2]]);
      for (const s of subs) s.unsubscribe();
    });

    it("delivers a canvas's batches in publish order", async () => {
      const { bus, publish } = await start();
      const heard: number[] = [];
      const sub = bus.subscribe("order", (p) => heard.push(p[0]!));
      await sub.ready;
      for (let i = 0; i < 100; i++) await publish("order", new Uint8Array([i]));
      await waitFor("every batch", () => heard.length === 100, 5_000, 2);
      expect(heard).toEqual(Array.from({ length: 100 }, (_, i) => i));
      sub();
    });

    it("ends a subscription when it is called or unsubscribed, and the canvas's other listeners keep hearing", async () => {
      const { bus, publish } = await start();
      const first: number[] = [];
      const second: number[] = [];
      const third: number[] = [];
      const called = bus.subscribe("shared", (p) => first.push(p[0]!));
      const unsubscribed = bus.subscribe("shared", (p) => second.push(p[0]!));
      const staying = bus.subscribe("shared", (p) => third.push(p[0]!));
      await Promise.all([called.ready, unsubscribed.ready, staying.ready]);
      await publish("shared", new Uint8Array([7]));
      await waitFor("all three listeners", () => first.length + second.length + third.length === 3, 5_000, 2);
      called();
      unsubscribed.unsubscribe();
      await publish("shared", new Uint8Array([8]));
      await waitFor("the staying listener", () => third.length === 2, 5_000, 2);
      expect([first, second, third]).toEqual([[7], [7], [7, 8]]);
      staying.unsubscribe();
    });
  });
}
