import { request as httpRequest } from "node:http";
import { connect as http2Connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { createCanvasServer, type CanvasServer } from "./canvas-server.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";

const logger = pino({ level: "silent" });

/** Bytes no protobuf message decodes from: a field tag whose varint never ends. */
const GARBAGE = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** A valid GetCanvas request body: field 1 (canvas_id) = "default". */
const VALID_MESSAGE = Buffer.from([0x0a, 0x07, ...Buffer.from("default")]);
/** The envelope flag that says "compressed". */
const COMPRESSED = 0x01;

/** One length-prefixed message frame (gRPC, gRPC-Web, Connect streaming). */
function envelope(flags: number, data: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

/** The frames of a response body. */
function frames(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Buffer;
}

function h2Post(session: ClientHttp2Session, path: string, headers: Record<string, string>, body: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    const chunks: Buffer[] = [];
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status: Number(responseHeaders[":status"]), headers: responseHeaders, trailers, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(body);
  });
}

function h1Post(port: number, path: string, headers: Record<string, string>, body: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The Connect error code of a unary error body or of a streaming end-of-stream frame. */
function connectCode(json: Buffer): string | undefined {
  const parsed = JSON.parse(json.toString()) as { code?: string; error?: { code?: string } };
  return parsed.error?.code ?? parsed.code;
}

/** The grpc-status of a gRPC-Web body's trailer frame. */
function grpcWebStatus(body: Buffer): string | undefined {
  const trailer = frames(body).find((f) => f.flags === 0x80);
  return /grpc-status:\s*(\d+)/.exec(trailer?.data.toString() ?? "")?.[1];
}

const METHODS = {
  unary: "/pixel.v1.CanvasService/SetPixels",
  serverStreaming: "/pixel.v1.CanvasService/WatchCanvas",
  bidiStreaming: "/pixel.v1.CanvasService/WritePixels",
} as const;
const INVALID_ARGUMENT = String(Code.InvalidArgument);

describe("undecodable binary requests are InvalidArgument on every protocol (real canvas server, port 0)", () => {
  let canvas: CanvasServer;
  let store: MemoryCanvasStore;
  let session: ClientHttp2Session;
  let httpPort: number;

  beforeAll(async () => {
    const bus = new MemoryPixelBus();
    store = new MemoryCanvasStore({ width: 8, height: 8, bus, logger });
    canvas = createCanvasServer({ config: loadConfig({ CANVAS_WIDTH: "8", CANVAS_HEIGHT: "8" }), store, bus, logger });
    await new Promise<void>((r) => canvas.grpcServer.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => canvas.httpServer.listen(0, "127.0.0.1", r));
    httpPort = (canvas.httpServer.address() as AddressInfo).port;
    session = http2Connect(`http://127.0.0.1:${(canvas.grpcServer.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    session?.close();
    await canvas?.shutdown(1_000);
    await store?.close();
  });

  it("Connect unary binary on HTTP/1.1 /api answers HTTP 400 invalid_argument, as JSON garbage does", async () => {
    const binary = await h1Post(httpPort, `/api${METHODS.unary}`, { "content-type": "application/proto" }, GARBAGE);
    expect([binary.status, connectCode(binary.body)]).toEqual([400, "invalid_argument"]);
    const json = await h1Post(httpPort, `/api${METHODS.unary}`, { "content-type": "application/json" }, Buffer.from("{nope"));
    expect([json.status, connectCode(json.body)]).toEqual([400, "invalid_argument"]);
  });

  it("Connect unary binary on h2c answers HTTP 400 invalid_argument", async () => {
    const res = await h2Post(session, METHODS.unary, { "content-type": "application/proto" }, GARBAGE);
    expect([res.status, connectCode(res.body)]).toEqual([400, "invalid_argument"]);
  });

  it("Connect streaming binary ends the stream with invalid_argument, server streaming on HTTP/1.1 and h2c, bidi on h2c", async () => {
    const headers = { "content-type": "application/connect+proto" };
    const results = [
      await h1Post(httpPort, `/api${METHODS.serverStreaming}`, headers, envelope(0, GARBAGE)),
      await h2Post(session, METHODS.serverStreaming, headers, envelope(0, GARBAGE)),
      await h2Post(session, METHODS.bidiStreaming, headers, envelope(0, GARBAGE)),
    ];
    for (const res of results) expect(res.status).toBe(200);
    const endCodes = results.map((res) => frames(res.body).filter((f) => f.flags === 0x02).map((f) => connectCode(f.data)));
    expect(endCodes).toEqual([["invalid_argument"], ["invalid_argument"], ["invalid_argument"]]);
  });

  it("gRPC answers grpc-status 3 (INVALID_ARGUMENT) for unary, server-streaming and bidi calls", async () => {
    const statuses = [];
    for (const path of Object.values(METHODS)) {
      const res = await h2Post(session, path, { "content-type": "application/grpc", te: "trailers" }, envelope(0, GARBAGE));
      statuses.push(res.trailers["grpc-status"] ?? res.headers["grpc-status"]);
    }
    expect(statuses).toEqual([INVALID_ARGUMENT, INVALID_ARGUMENT, INVALID_ARGUMENT]);
  });

  it("gRPC-Web answers grpc-status 3 in its trailer frame for unary, server-streaming and bidi calls, on h2c and HTTP/1.1", async () => {
    const headers = { "content-type": "application/grpc-web+proto" };
    const statuses = [];
    for (const path of Object.values(METHODS)) {
      statuses.push(grpcWebStatus((await h2Post(session, path, headers, envelope(0, GARBAGE))).body));
    }
    statuses.push(grpcWebStatus((await h1Post(httpPort, `/api${METHODS.unary}`, headers, envelope(0, GARBAGE))).body));
    expect(statuses).toEqual([INVALID_ARGUMENT, INVALID_ARGUMENT, INVALID_ARGUMENT, INVALID_ARGUMENT]);
  });

  it("an envelope flagged compressed with no grpc-encoding answers grpc-status 3 on gRPC and gRPC-Web, unary and streaming, not connect-node's Internal", async () => {
    const calls: { path: string; headers: Record<string, string> }[] = [
      { path: "/pixel.v1.CanvasService/GetCanvas", headers: { "content-type": "application/grpc", te: "trailers" } },
      { path: METHODS.serverStreaming, headers: { "content-type": "application/grpc", te: "trailers" } },
      { path: "/pixel.v1.CanvasService/GetCanvas", headers: { "content-type": "application/grpc-web+proto" } },
      { path: METHODS.serverStreaming, headers: { "content-type": "application/grpc-web+proto" } },
    ];
    const statuses = [];
    for (const { path, headers } of calls) {
      const res = await h2Post(session, path, headers, envelope(COMPRESSED, VALID_MESSAGE));
      statuses.push(headers["content-type"] === "application/grpc" ? res.trailers["grpc-status"] ?? res.headers["grpc-status"] : grpcWebStatus(res.body));
    }
    expect(statuses).toEqual([INVALID_ARGUMENT, INVALID_ARGUMENT, INVALID_ARGUMENT, INVALID_ARGUMENT]);
  });
});
