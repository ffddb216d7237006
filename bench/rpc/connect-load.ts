import { fromBinary } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CanvasService, GetCanvasRequestSchema, SetPixelsRequestSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { createCanvasClient } from "../../services/gateway/upstream/canvas-client.js";
import { LatencyHistogram } from "../latency-histogram.js";
import type { RpcCase, RpcProtocol } from "./rpc-wire.js";

/** One transport of the project's own client stack, HTTP/2, reused for every call. */
export function benchTransport(protocol: RpcProtocol, baseUrl: string): Transport {
  switch (protocol) {
    case "connect": return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
    case "grpc": return createGrpcTransport({ baseUrl });
    case "grpc-web": return createGrpcWebTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
  }
}

/** What the connect-node client measured. */
export interface ConnectLoadResult {
  callsPerSecond: number;
  pixelsPerSecond: number;
  calls: number;
  failures: number;
  firstFailure: string | undefined;
  latency: LatencyHistogram;
}

/**
 * Keeps `inFlight` calls running on one transport for `seconds`, recording each call's latency (µs).
 * WritePixels cases go through the gateway's own client (one WritePixels stream, `inFlight`
 * requests outstanding on it), so they measure the production write path.
 */
export async function runConnectLoad(transport: Transport, c: RpcCase, inFlight: number, seconds: number): Promise<ConnectLoadResult> {
  const client = createClient(CanvasService, transport);
  const stream = c.method === "WritePixels" ? createCanvasClient(transport, "stream") : undefined;
  const latency = LatencyHistogram.create();
  const getReq = c.method === "GetCanvas" ? fromBinary(GetCanvasRequestSchema, c.message) : undefined;
  const setReq = c.method === "GetCanvas" ? undefined : fromBinary(SetPixelsRequestSchema, c.message);
  let calls = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        if (getReq) await client.getCanvas(getReq);
        else if (stream) await stream.setPixels(setReq!.canvasId, setReq!.pixels, setReq!.author, 10_000);
        else await client.setPixels(setReq!);
        latency.record((performance.now() - t) * 1000);
        calls++;
      } catch (err) {
        failures++;
        firstFailure ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  stream?.close?.();
  const elapsed = (performance.now() - started) / 1000;
  return { callsPerSecond: calls / elapsed, pixelsPerSecond: (calls * c.pixels) / elapsed, calls, failures, firstFailure, latency };
}
