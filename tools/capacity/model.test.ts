import { describe, expect, it } from "vitest";
import { Prng } from "../prng.js";
import { defaultInputs } from "./inputs.js";
import { canvasMicros, plan, redisWriteMicros, type Scenario, socketsPerGateway } from "./model.js";
import { poisson, simulateFanout, simulateSubscribers, simulateWriter } from "./sample.js";
import { COOLDOWN_RATE, PEAK_2022_RATE } from "./scenarios.js";

const inputs = defaultInputs();

describe("capacity model arithmetic", () => {
  it("the fitted per-batch and per-pixel costs reproduce the rpc benchmark's CPU figures within 3 %", () => {
    // rpc-2026-11-22T03-47-00-557Z, WritePixels over Connect: x1 at 11,007 calls/s, x1000 at 548.
    expect(redisWriteMicros(inputs, 11_007, 1) / 1e6).toBeCloseTo(0.292, 2);
    expect(redisWriteMicros(inputs, 548, 1000) / 1e6).toBeCloseTo(0.24, 2);
    expect(Math.abs(canvasMicros(inputs, 11_007, 1) / 1e6 - 0.841) / 0.841).toBeLessThan(0.03);
    expect(Math.abs(canvasMicros(inputs, 548, 1000) / 1e6 - 0.747) / 0.747).toBeLessThan(0.03);
  });

  it("a gateway holds MAX_CONNECTIONS sockets, or fewer when their memory would pass its limit", () => {
    expect(socketsPerGateway(inputs)).toBe(20_000);
    // (256 − 87) MiB of room at 9.58 KiB per socket.
    expect(socketsPerGateway({ ...inputs, gatewayMemoryLimitMiB: 256 })).toBe(Math.floor((169 * 1024) / 9.58));
  });

  it("the r/place rates are 1 placement per 5 minutes, and 5.9M per hour among 2.8M visitors", () => {
    expect(COOLDOWN_RATE * 10_000_000).toBeCloseTo(33_333.3, 1);
    expect(PEAK_2022_RATE * 2_800_000 * 3600).toBeCloseTo(5_900_000, 0);
  });
});

describe("capacity simulations", () => {
  it("Poisson draws have the requested mean on both sides of the normal approximation", () => {
    const rng = new Prng(1);
    for (const mean of [0.3, 4, 80]) {
      let sum = 0;
      for (let k = 0; k < 20_000; k++) sum += poisson(rng, mean);
      expect(Math.abs(sum / 20_000 - mean) / mean).toBeLessThan(0.03);
    }
  });

  it("a writer sends one pixel per batch when idle, and about one batch per round trip when busy", () => {
    const slow = simulateWriter({ pixelsPerSecond: 10, roundTripMs: 3, seconds: 2_000, seed: 1 });
    expect(slow.pixelsPerBatch).toBeLessThan(1.05);
    expect(Math.abs(slow.batchesPerSecond - 10) / 10).toBeLessThan(0.05);
    const busy = simulateWriter({ pixelsPerSecond: 10_000, roundTripMs: 3, seconds: 20, seed: 1 });
    // Every 3 ms a write returns with what arrived meanwhile: about 333 batches of about 30 pixels.
    expect(Math.abs(busy.batchesPerSecond - 1000 / 3) / (1000 / 3)).toBeLessThan(0.05);
    expect(busy.batchesPerSecond * busy.pixelsPerBatch).toBeCloseTo(10_000, -2);
  });

  it("a socket watching one tile gets a frame in each tick that holds a placement there: ticks/s × (1 − e^(−λτ))", () => {
    const { framesPerSocketSecond } = simulateFanout({ pixelsPerSecond: 50, tilesX: 1, tilesY: 1, watch: 1, zipf: 0, tickMs: 20, seconds: 200, sockets: 10, seed: 3 });
    const expected = 50 * (1 - Math.exp(-1));
    expect(Math.abs(framesPerSocketSecond - expected) / expected).toBeLessThan(0.05);
  });

  it("members spread at random reach G(1 − (1 − 1/G)^m) gateways; routed by canvas name, as few as hold them", () => {
    const random = simulateSubscribers({ members: 1_000, gateways: 500, perGateway: 20_000, routing: "random", samples: 20, seed: 5 });
    const expected = 500 * (1 - (1 - 1 / 500) ** 1_000);
    expect(Math.abs(random - expected) / expected).toBeLessThan(0.02);
    expect(simulateSubscribers({ members: 50_000, gateways: 500, perGateway: 20_000, routing: "affinity", samples: 1, seed: 5 })).toBe(3);
    expect(simulateSubscribers({ members: 10_000_000, gateways: 500, perGateway: 20_000, routing: "random", samples: 1, seed: 5 })).toBe(500);
  });
});

describe("plan", () => {
  const small: Scenario = {
    name: "test",
    users: 200_000,
    canvases: 100,
    tilesX: 1,
    tilesY: 1,
    pixelsPerUserSecond: COOLDOWN_RATE,
    tickMs: 20,
    routing: "affinity",
    writers: "gateways",
    readNodesPerShard: 1,
  };

  it("sizes gateways by the larger of connections and fan-out frames, and Redis at 3 primaries at least", () => {
    const p = plan(small, inputs);
    expect(p.gatewaysByConnections).toBe(10);
    expect(p.gateways).toBe(Math.max(p.gatewaysByConnections, p.gatewaysByFrames));
    expect(p.gatewaysByFrames).toBe(Math.ceil((200_000 * p.framesPerSocketSecond) / inputs.gatewayFramesPerCoreSecond / inputs.targetUtilization));
    expect(p.subscribersPerCanvas).toBe(1);
    expect(p.redisShards).toBe(3);
    expect(p.bottleneck).toMatch(/^gateways/);
  });

  it("names the canvas's slot as the limit when its one primary would pass the target, with the users it can serve", () => {
    const p = plan({ ...small, canvases: 1, routing: "random" }, { ...inputs, redisMicrosPerDelivery: 100 });
    expect(p.hotSlotCores).toBeGreaterThan(inputs.targetUtilization);
    expect(p.bottleneck).toMatch(/^one canvas = one slot = one primary: .* the ceiling is about [\d,]+ users$/);
  });
});
