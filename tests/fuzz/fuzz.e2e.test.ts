import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSummary, runFuzz, type FuzzResult } from "./fuzz-run.js";
import { SHORT_FORM } from "./fuzz-presets.js";

// The short form of the fuzz suite (`npm run fuzz` is the long one): real redis-server, canvas
// service and gateway from dist/ (`npx tsc -p tsconfig.build.json` first), a fixed seed, about
// 14,000 inputs. Each test checks one claim over the whole run; a failure lists the inputs (as
// bytes, rebuildable from the seed and their number) that broke it.

describe(`fuzz, short form (seed ${SHORT_FORM.seed})`, () => {
  let result: FuzzResult;

  beforeAll(async () => {
    result = await runFuzz(SHORT_FORM);
  }, 120_000);

  afterAll(() => {
    if (result) process.stdout.write(`${formatSummary(result)}\n`);
  });

  it("sends every kind of input: valid, random, mutated and boundary /ws frames, protocol violations, /api and h2c requests, ping floods", () => {
    const kinds = ["ws.valid", "ws.random", "ws.mutated", "ws.boundary", "ws.violation", "api.connect", "api.connect-stream", "h2c.grpc", "h2c.grpc-web", "h2c.connect", "flood.app-ping.frames", "flood.ws-ping.frames"];
    expect(kinds.filter((k) => !((result.sent[k] ?? 0) > 0))).toEqual([]);
  });

  it("keeps the gateway and the canvas service running and healthy (/healthz, gRPC health) after every phase", () => {
    expect(result.failures.health).toEqual([]);
  });

  it("answers every fuzzed /ws frame as documented: an Ack, Pong, or Error with the documented code, never closing below the abuse limits", () => {
    expect(result.failures.answers).toEqual([]);
  });

  it("answers protocol violations as documented: NOT_JOINED before Hello, 1008 after 16 malformed or 101 refused frames, 1009 above 64 KiB", () => {
    expect(result.failures.violations).toEqual([]);
  });

  it("answers no malformed /api request (Connect over HTTP/1.1, JSON and binary) with a 5xx or code internal", () => {
    expect(result.failures.api5xx).toEqual([]);
  });

  it("answers no malformed h2c request (gRPC, gRPC-Web, Connect) with gRPC status 13 INTERNAL, code internal or a 5xx", () => {
    expect(result.failures.h2cInternal).toEqual([]);
  });

  const { gateway, canvas } = SHORT_FORM.rssBudgetMiB;
  it(`keeps gateway RSS within ${gateway} MiB and canvas RSS within ${canvas} MiB of idle in every phase, ping floods from non-reading clients included`, () => {
    expect(result.failures.memory).toEqual([]);
  });

  it("stores exactly the acked valid placements: no rejected or unacked frame changed the canvas", () => {
    expect(result.failures.canvas).toEqual([]);
  });
});
