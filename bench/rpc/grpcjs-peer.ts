import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Server, status, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  GetCanvasRequestSchema,
  GetCanvasResponseSchema,
  SetPixelsRequestSchema,
  SetPixelsResponseSchema,
  WritePixelsRequestSchema,
  WritePixelsResponseSchema,
  type SetPixelsRequest,
} from "../../gen/pixel/v1/canvas_pb.js";
import type { CanvasStore } from "../../services/canvas/canvas-store.js";
import { MAX_PIXELS_PER_CALL, resolveCanvasId } from "../../services/shared/config.js";
import { validateName, validatePixels } from "../../protocol/pixel-validation.js";

/** What the reference peer needs: the canvas engineer's store and the canvas size. */
export interface GrpcJsPeerOptions {
  store: CanvasStore;
  width: number;
  height: number;
}

function method<I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O, streaming = false) {
  return {
    path: `/pixel.v1.CanvasService/${name}`,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
    responseSerialize: (m: MessageShape<O>) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
  };
}

/**
 * The reference peer of the RPC benchmark: GetCanvas, SetPixels and WritePixels of pixel.v1.CanvasService
 * on @grpc/grpc-js, with the same protobuf-es messages, the same validation and the same
 * Redis store as our canvas service, so the ratio between the two measures the RPC stack.
 */
export function createGrpcJsPeer(o: GrpcJsPeerOptions): Server {
  const server = new Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
  const fail = (cb: sendUnaryData<never>, code: status, details: string) => cb({ code, details, name: "Error", message: details });
  // Resolves with the stored position, or rejects with [code, message].
  const store = async (req: SetPixelsRequest): Promise<{ seq: bigint; epoch: bigint }> => {
    const invalid = validatePixels(req.pixels, o.width, o.height, MAX_PIXELS_PER_CALL) ?? validateName(req.author);
    if (invalid !== undefined) throw [status.INVALID_ARGUMENT, invalid];
    try {
      const stored = await o.store.setPixels(resolveCanvasId(req.canvasId), req.pixels, req.author);
      return { seq: BigInt(stored.seq), epoch: BigInt(stored.epoch) };
    } catch (err) {
      throw [status.UNAVAILABLE, (err as Error).message];
    }
  };
  const impl: UntypedServiceImplementation = {
    GetCanvas(call: ServerUnaryCall<MessageShape<typeof GetCanvasRequestSchema>, unknown>, cb: sendUnaryData<unknown>) {
      o.store.getCanvas(resolveCanvasId(call.request.canvasId)).then(
        (snap) => cb(null, create(GetCanvasResponseSchema, { canvasId: snap.canvasId, width: snap.width, height: snap.height, seq: BigInt(snap.seq), epoch: BigInt(snap.epoch), pixels: snap.pixels })),
        (err: Error) => fail(cb as sendUnaryData<never>, status.UNAVAILABLE, err.message),
      );
    },
    SetPixels(call: ServerUnaryCall<MessageShape<typeof SetPixelsRequestSchema>, unknown>, cb: sendUnaryData<unknown>) {
      store(call.request).then(
        (stored) => cb(null, create(SetPixelsResponseSchema, stored)),
        ([code, message]: [status, string]) => fail(cb as sendUnaryData<never>, code, message),
      );
    },
    // The same contract as ours: answer each request by id, keep the stream after a refused one.
    WritePixels(call: ServerDuplexStream<MessageShape<typeof WritePixelsRequestSchema>, unknown>) {
      let running = 0;
      let ended = false;
      const finish = () => {
        if (ended && running === 0) call.end();
      };
      call.on("data", (req: MessageShape<typeof WritePixelsRequestSchema>) => {
        running++;
        store(req.request ?? create(SetPixelsRequestSchema)).then(
          (stored) => call.write(create(WritePixelsResponseSchema, { id: req.id, result: { case: "stored", value: stored } })),
          ([code, message]: [status, string]) => call.write(create(WritePixelsResponseSchema, { id: req.id, result: { case: "error", value: { code, message } } })),
        ).finally(() => {
          running--;
          finish();
        });
      });
      call.on("end", () => {
        ended = true;
        finish();
      });
      call.on("error", () => undefined);
    },
  };
  server.addService({
    GetCanvas: method("GetCanvas", GetCanvasRequestSchema, GetCanvasResponseSchema),
    SetPixels: method("SetPixels", SetPixelsRequestSchema, SetPixelsResponseSchema),
    WritePixels: method("WritePixels", WritePixelsRequestSchema, WritePixelsResponseSchema, true),
  }, impl);
  return server;
}
