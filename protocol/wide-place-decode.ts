import { clone, createFileRegistry, fromBinary, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Type, FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { file_pixel_v1_canvas } from "../gen/pixel/v1/canvas_pb.js";
import { file_pixel_v1_realtime } from "../gen/pixel/v1/realtime_pb.js";

/** A Place as decodeWidePlace reads it: every uint32 widened to its full 64-bit value. */
export interface WidePlace {
  clientSeq: bigint;
  pixels: { x: bigint; y: bigint; color: bigint }[];
}

/** A copy of a generated file with the named uint32 fields of the named messages turned into uint64. */
function widened(file: DescFile, fields: Record<string, readonly string[]>): FileDescriptorProto {
  const proto = clone(FileDescriptorProtoSchema, file.proto);
  for (const message of proto.messageType) {
    for (const field of message.field) {
      if (fields[message.name]?.includes(field.name)) field.type = FieldDescriptorProto_Type.UINT64;
    }
  }
  return proto;
}

/**
 * pixel.v1.ClientFrame with Place.client_seq and Pixel.x/y/color as uint64. A uint64 varint is
 * read over exactly the same bytes as a uint32 one, so this accepts and rejects what the
 * generated decoder does, but keeps the bits that decoder silently truncates.
 */
const wideClientFrame: DescMessage = (() => {
  const canvas = createFileRegistry(widened(file_pixel_v1_canvas, { Pixel: ["x", "y", "color"] }), () => undefined);
  const realtime = createFileRegistry(widened(file_pixel_v1_realtime, { Place: ["client_seq"] }), (name) => canvas.getFile(name));
  const desc = realtime.getMessage("pixel.v1.ClientFrame");
  if (!desc) throw new Error("pixel.v1.ClientFrame is missing from the generated descriptors");
  return desc;
})();

/**
 * Decodes a ClientFrame exactly as the generated decoder does (throwing where it throws) and
 * returns its Place with full-width values, or undefined when the frame is not a Place. The
 * Place scanner's path for unusual frames, and the oracle of its tests.
 */
export function decodeWidePlace(bytes: Uint8Array): WidePlace | undefined {
  // The descriptor is built at runtime, so its shape is known to us, not to the type system.
  const frame = (fromBinary(wideClientFrame, bytes) as unknown as { frame: { case: string | undefined; value?: WidePlace } }).frame;
  return frame.case === "place" ? frame.value : undefined;
}
