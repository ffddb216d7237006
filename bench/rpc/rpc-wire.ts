import { create, toBinary } from "@bufbuild/protobuf";
import { GetCanvasRequestSchema, PixelSchema, SetPixelsRequestSchema } from "../../gen/pixel/v1/canvas_pb.js";

/** The three protocols one connect-node handler serves. */
export type RpcProtocol = "connect" | "grpc" | "grpc-web";

/** One benchmarked call: a method and a request. */
export interface RpcCase {
  /** e.g. "SetPixels x100". */
  name: string;
  /** WritePixels: the same SetPixels requests, many on one stream (connect-node client only). */
  method: "GetCanvas" | "SetPixels" | "WritePixels";
  /** Pixels per SetPixels or WritePixels request (0 for GetCanvas). */
  pixels: number;
  message: Uint8Array;
}

/** A deterministic batch of `n` distinct-looking pixels on a width x height canvas. */
export function benchPixels(n: number, width: number, height: number) {
  return Array.from({ length: n }, (_, i) => create(PixelSchema, { x: (i * 7) % width, y: Math.floor((i * 7) / width) % height, color: (i * 2654435761) & 0xffffff }));
}

/** GetCanvas, then SetPixels with 1, 100 and 1,000 pixels, then the same batches over WritePixels. */
export function rpcCases(width: number, height: number, sizes: number[]): RpcCase[] {
  const cases: RpcCase[] = [{ name: "GetCanvas", method: "GetCanvas", pixels: 0, message: toBinary(GetCanvasRequestSchema, create(GetCanvasRequestSchema, { canvasId: "default" })) }];
  for (const n of sizes) {
    const req = create(SetPixelsRequestSchema, { canvasId: "default", author: "bench", pixels: benchPixels(n, width, height) });
    cases.push({ name: `SetPixels x${n}`, method: "SetPixels", pixels: n, message: toBinary(SetPixelsRequestSchema, req) });
  }
  for (const c of cases.filter((x) => x.method === "SetPixels")) {
    cases.push({ ...c, name: c.name.replace("SetPixels", "WritePixels"), method: "WritePixels" });
  }
  return cases;
}

/** The HTTP/2 request body and headers for one unary call in a protocol. */
export function wireRequest(protocol: RpcProtocol, message: Uint8Array): { body: Buffer; headers: Record<string, string> } {
  if (protocol === "connect") {
    return { body: Buffer.from(message), headers: { "content-type": "application/proto", "connect-protocol-version": "1" } };
  }
  // gRPC and gRPC-Web frame the message: flag byte 0 (uncompressed), 4-byte big-endian length.
  const body = Buffer.allocUnsafe(5 + message.length);
  body[0] = 0;
  body.writeUInt32BE(message.length, 1);
  body.set(message, 5);
  return protocol === "grpc"
    ? { body, headers: { "content-type": "application/grpc", te: "trailers" } }
    : { body, headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" } };
}
