import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Server, status, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  GetCanvasRequestSchema,
  GetCanvasResponseSchema,
  SetPixelsRequestSchema,
  SetPixelsResponseSchema,
} from "../../gen/pixel/v1/canvas_pb.js";
import type { CanvasStore } from "../../services/canvas/canvas-store.js";
import { MAX_PIXELS_PER_CALL, resolveCanvasId } from "../../services/shared/config.js";
import { validateName, validatePixels } from "../../services/shared/pixel-validation.js";

/** What the reference peer needs: the canvas engineer's store and the canvas size. */
export interface GrpcJsPeerOptions {
  store: CanvasStore;
  width: number;
  height: number;
}

function method<I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O) {
  return {
    path: `/pixel.v1.CanvasService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
    responseSerialize: (m: MessageShape<O>) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
  };
}

/**
 * The reference peer of the RPC benchmark: GetCanvas and SetPixels of pixel.v1.CanvasService
 * on @grpc/grpc-js, with the same protobuf-es messages, the same validation and the same
 * Redis store as our canvas service, so the ratio between the two measures the RPC stack.
 */
export function createGrpcJsPeer(o: GrpcJsPeerOptions): Server {
  const server = new Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
  const fail = (cb: sendUnaryData<never>, code: status, details: string) => cb({ code, details, name: "Error", message: details });
  const impl: UntypedServiceImplementation = {
    GetCanvas(call: ServerUnaryCall<MessageShape<typeof GetCanvasRequestSchema>, unknown>, cb: sendUnaryData<unknown>) {
      o.store.getCanvas(resolveCanvasId(call.request.canvasId)).then(
        (snap) => cb(null, create(GetCanvasResponseSchema, { canvasId: snap.canvasId, width: snap.width, height: snap.height, seq: BigInt(snap.seq), epoch: BigInt(snap.epoch), pixels: snap.pixels })),
        (err: Error) => fail(cb as sendUnaryData<never>, status.UNAVAILABLE, err.message),
      );
    },
    SetPixels(call: ServerUnaryCall<MessageShape<typeof SetPixelsRequestSchema>, unknown>, cb: sendUnaryData<unknown>) {
      const req = call.request;
      const invalid = validatePixels(req.pixels, o.width, o.height, MAX_PIXELS_PER_CALL) ?? validateName(req.author);
      if (invalid !== undefined) return fail(cb as sendUnaryData<never>, status.INVALID_ARGUMENT, invalid);
      o.store.setPixels(resolveCanvasId(req.canvasId), req.pixels, req.author).then(
        (stored) => cb(null, create(SetPixelsResponseSchema, { seq: BigInt(stored.seq), epoch: BigInt(stored.epoch) })),
        (err: Error) => fail(cb as sendUnaryData<never>, status.UNAVAILABLE, err.message),
      );
    },
  };
  server.addService({
    GetCanvas: method("GetCanvas", GetCanvasRequestSchema, GetCanvasResponseSchema),
    SetPixels: method("SetPixels", SetPixelsRequestSchema, SetPixelsResponseSchema),
  }, impl);
  return server;
}
