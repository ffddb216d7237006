import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { createCanvasServer, MAX_REQUEST_BYTES, type CanvasServer } from "./canvas-server.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";

const logger = pino({ level: "silent" });

/** How long a stream may take to close once answered; an undrained one never does. */
const CLOSE_TIMEOUT_MS = 2_000;
/** More oversized calls than Node's client session memory (10 MiB) could hold unsent. */
const OVERSIZED_CALLS = 15;

/** A gRPC envelope claiming and carrying more than the server reads. */
function oversizedEnvelope(): Buffer {
  const body = Buffer.alloc(5 + MAX_REQUEST_BYTES + 1024, 0x0a);
  body[0] = 0;
  body.writeUInt32BE(MAX_REQUEST_BYTES + 1024, 1);
  return body;
}

interface Closed {
  grpcStatus: string | undefined;
  rstCode: number | undefined;
}

/** Sends one gRPC call and resolves once the stream has closed on the client, or says it stayed open. */
function grpcCall(session: ClientHttp2Session, path: string, body: Buffer): Promise<Closed | "still open"> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let grpcStatus: string | undefined;
    const timer = setTimeout(() => {
      stream.close();
      resolve("still open");
    }, CLOSE_TIMEOUT_MS);
    stream.on("response", (h) => (grpcStatus ??= h["grpc-status"] as string | undefined));
    stream.on("trailers", (t) => (grpcStatus = t["grpc-status"] as string | undefined));
    stream.on("data", () => undefined);
    stream.on("error", () => undefined);
    stream.on("close", () => {
      clearTimeout(timer);
      resolve({ grpcStatus, rstCode: stream.rstCode });
    });
    stream.end(body);
  });
}

describe("request bodies answered before they were read (real canvas server, port 0)", () => {
  let canvas: CanvasServer;
  let store: MemoryCanvasStore;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    const bus = new MemoryPixelBus();
    store = new MemoryCanvasStore({ width: 8, height: 8, bus, logger });
    canvas = createCanvasServer({ config: loadConfig({ CANVAS_WIDTH: "8", CANVAS_HEIGHT: "8" }), store, bus, logger });
    await new Promise<void>((r) => canvas.grpcServer.listen(0, "127.0.0.1", r));
    session = http2Connect(`http://127.0.0.1:${(canvas.grpcServer.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    session?.close();
    await canvas?.shutdown(1_000);
    await store?.close();
  });

  it(`closes each of ${OVERSIZED_CALLS} oversized gRPC calls cleanly after RESOURCE_EXHAUSTED, and the session still serves calls (no ENHANCE_YOUR_CALM)`, async () => {
    const results: (Closed | "still open")[] = [];
    for (let i = 0; i < OVERSIZED_CALLS; i++) results.push(await grpcCall(session, "/pixel.v1.CanvasService/SetPixels", oversizedEnvelope()));
    const healthCheck = Buffer.from([0, 0, 0, 0, 0]);
    const after = await grpcCall(session, "/grpc.health.v1.Health/Check", healthCheck);
    expect({ results, after }).toEqual({
      results: Array.from({ length: OVERSIZED_CALLS }, () => ({ grpcStatus: "8", rstCode: 0 })),
      after: { grpcStatus: "0", rstCode: 0 },
    });
  });
});
