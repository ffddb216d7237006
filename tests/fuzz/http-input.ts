import { create, toBinary, toJsonString, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { GetCanvasRequestSchema, ResetCanvasRequestSchema, SetPixelsRequestSchema, WatchCanvasRequestSchema, WritePixelsRequestSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { mutate } from "./byte-mutation.js";
import { inputPrng, type Prng } from "../../tools/prng.js";
import { API_CANVAS } from "./fuzz-system.js";

/** Where an HTTP input goes: the canvas service's HTTP/1.1 /api, or its h2c port. */
export type HttpTarget = "api" | "h2c";
/** The RPC protocol an input speaks (or pretends to). */
export type RpcProtocol = "connect" | "connect-stream" | "grpc" | "grpc-web";

/** One generated request. */
export interface HttpInput {
  index: number;
  target: HttpTarget;
  protocol: RpcProtocol;
  /** Path after the prefix, e.g. `pixel.v1.CanvasService/SetPixels`. */
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The kind (random, mutated, boundary) and what was done. */
  label: string;
}

interface Rpc {
  path: string;
  streaming: boolean;
  schema: DescMessage;
  sample: (rng: Prng) => object;
}

const pixels = (rng: Prng) => Array.from({ length: rng.between(1, 5) }, () => ({ x: rng.int(40), y: rng.int(40), color: rng.int(0x1000000) }));
const RPCS: Rpc[] = [
  { path: "pixel.v1.CanvasService/GetCanvas", streaming: false, schema: GetCanvasRequestSchema, sample: () => ({ canvasId: API_CANVAS }) },
  { path: "pixel.v1.CanvasService/SetPixels", streaming: false, schema: SetPixelsRequestSchema, sample: (rng) => ({ canvasId: API_CANVAS, pixels: pixels(rng), author: "fuzz" }) },
  // A future after_seq ends the stream at once (OutOfRange) instead of leaving it open.
  { path: "pixel.v1.CanvasService/WatchCanvas", streaming: true, schema: WatchCanvasRequestSchema, sample: (rng) => ({ canvasId: API_CANVAS, afterSeq: BigInt(1e12 + rng.int(1e6)) }) },
  { path: "pixel.v1.CanvasService/WritePixels", streaming: true, schema: WritePixelsRequestSchema, sample: (rng) => ({ id: BigInt(rng.int(1000)), request: { canvasId: API_CANVAS, pixels: pixels(rng) } }) },
  { path: "pixel.v1.CanvasService/ResetCanvas", streaming: false, schema: ResetCanvasRequestSchema, sample: () => ({ canvasId: API_CANVAS }) },
  { path: "grpc.health.v1.Health/Check", streaming: false, schema: HealthCheckRequestSchema, sample: () => ({ service: "" }) },
  { path: "pixel.v1.CanvasService/NoSuchMethod", streaming: false, schema: GetCanvasRequestSchema, sample: () => ({}) },
];

const STREAM_HTTP = 3;

/** The gRPC / Connect streaming envelope: flags, 4-byte big-endian length, message. */
export function envelope(flags: number, message: Uint8Array, claimedLength = message.length): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, claimedLength >>> 0);
  out.set(message, 5);
  return out;
}

/** Input number `index` for `target`; the same on every call. */
export function generateHttpInput(seed: number, index: number, target: HttpTarget): HttpInput {
  const rng = inputPrng(seed, index, STREAM_HTTP + (target === "h2c" ? 1 : 0));
  const rpc = rng.pick(RPCS);
  const protocol: RpcProtocol = target === "api"
    ? rpc.streaming && rng.chance(0.7) ? "connect-stream" : "connect"
    : rng.pick(["grpc", "grpc", "grpc-web", rpc.streaming ? "connect-stream" : "connect"] as const);
  const json = (protocol === "connect" || protocol === "connect-stream") && rng.chance(0.5);
  const message = create(rpc.schema, rpc.sample(rng) as MessageInitShape<DescMessage>);
  const encoded = json ? Buffer.from(toJsonString(rpc.schema, message)) : toBinary(rpc.schema, message);
  const headers: Record<string, string> = { "content-type": contentType(protocol, json) };
  if (protocol === "grpc") headers.te = "trailers";
  if (protocol === "connect") headers["connect-protocol-version"] = "1";
  const framed = protocol !== "connect";
  const roll = rng.int(100);
  let label: string;
  let body: Uint8Array;
  if (roll < 30) {
    const n = rng.chance(0.1) ? rng.between(100, 4096) : rng.between(0, 64);
    body = rng.bytes(n);
    if (framed && rng.chance(0.5)) body = envelope(0, body);
    label = `random ${n} bytes`;
  } else if (roll < 75) {
    const bytes = Array.from(encoded);
    const names: string[] = [];
    const rounds = rng.between(1, 3);
    for (let i = 0; i < rounds; i++) names.push(mutate(rng, bytes));
    body = framed ? envelope(0, Uint8Array.from(bytes)) : Uint8Array.from(bytes);
    label = `mutated ${names.join("+")}`;
  } else {
    [label, body] = boundaryBody(rng, encoded, framed, json, headers);
  }
  return { index, target, protocol, method: rpc.path, headers, body, label: `${json ? "json" : "proto"} ${label}` };
}

function contentType(protocol: RpcProtocol, json: boolean): string {
  switch (protocol) {
    case "connect": return json ? "application/json" : "application/proto";
    case "connect-stream": return json ? "application/connect+json" : "application/connect+proto";
    case "grpc": return "application/grpc+proto";
    case "grpc-web": return "application/grpc-web+proto";
  }
}

/** Hand-made edge cases: odd envelopes, odd JSON, odd headers. */
function boundaryBody(rng: Prng, encoded: Uint8Array, framed: boolean, json: boolean, headers: Record<string, string>): [string, Uint8Array] {
  const wrap = (b: Uint8Array) => (framed ? envelope(0, b) : b);
  switch (rng.int(14)) {
    case 0: return ["empty body", new Uint8Array(0)];
    case 1: return ["envelope length beyond the body", framed ? envelope(0, encoded, encoded.length + 100) : Uint8Array.from([...encoded, 0xff])];
    case 2: return ["compressed flag without an encoding", framed ? envelope(1, encoded) : encoded];
    case 3: return ["two envelopes", framed ? Uint8Array.from([...envelope(0, encoded), ...envelope(0, encoded)]) : Uint8Array.from([...encoded, ...encoded])];
    case 4: return ["truncated envelope header", framed ? envelope(0, encoded).subarray(0, 3) : encoded.subarray(0, 1)];
    case 5: {
      headers["content-encoding"] = "gzip";
      headers["grpc-encoding"] = "gzip";
      headers["connect-content-encoding"] = "gzip";
      return ["gzip header on a plain body", framed ? envelope(1, encoded) : encoded];
    }
    case 6: {
      headers["connect-timeout-ms"] = rng.pick(["abc", "-1", "99999999999", "1.5"]);
      headers["grpc-timeout"] = rng.pick(["xyz", "-5S", "999999999H", "1.5m"]);
      return [`timeout headers ${headers["connect-timeout-ms"]} / ${headers["grpc-timeout"]}`, wrap(encoded)];
    }
    case 7: {
      headers["content-type"] = rng.pick(["text/plain", "application/proto; charset=utf-8", "application/grpc+json", "application/json; charset=latin1", "application/x-www-form-urlencoded"]);
      return [`content-type ${headers["content-type"]}`, wrap(encoded)];
    }
    case 8: return ["deeply nested JSON", wrap(Buffer.from(`{"pixels":${"[".repeat(50_000)}${"]".repeat(50_000)}}`))];
    case 9: return ["JSON numbers out of range", wrap(Buffer.from(rng.pick([
      '{"pixels":[{"x":4294967296,"y":0,"color":1}]}', '{"pixels":[{"x":-1}]}', '{"pixels":[{"x":1.5}]}', '{"pixels":[{"x":"1e400"}]}',
      '{"afterSeq":"18446744073709551616"}', '{"afterSeq":-1}', '{"id":"x"}', '{"pixels":[{"color":1e400}]}',
    ])))];
    case 10: return ["JSON of the wrong shape", wrap(Buffer.from(rng.pick(["null", "[]", "\"\"", "{\"canvasId\":5}", "{\"pixels\":null}", "{\"pixels\":{}}", "{\"canvasId\":\"\\ud800\"}", "{\"request\":[]}"])))];
    case 11: return ["body above the 1 MiB limit", wrap(new Uint8Array(1024 * 1024 + 1024).fill(json ? 0x20 : 0x0a))];
    case 12: {
      headers["connect-protocol-version"] = "2";
      return ["connect-protocol-version 2", wrap(encoded)];
    }
    default: return ["invalid UTF-8 in a string field", wrap(Uint8Array.from([0x0a, 0x03, 0xc3, 0x28, 0xff]))];
  }
}
