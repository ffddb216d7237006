import type { DescMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AuthorSchema, PixelBatchSchema, PixelColumnsSchema, PixelSchema } from "../gen/pixel/v1/canvas_pb.js";
import { AckSchema, BatchesSchema, ClientFrameSchema, PlaceSchema, ServerFrameSchema, WelcomeSchema } from "../gen/pixel/v1/realtime_pb.js";
import * as tags from "./wire-tags.js";

/** Field name (as in the .proto, upper-cased) -> number, from the generated descriptor. */
function numbers(schema: DescMessage): Record<string, number> {
  return Object.fromEntries(schema.fields.map((f) => [f.name.toUpperCase(), f.number]));
}

describe("wire tags", () => {
  it("name the field numbers of the generated descriptors", () => {
    expect(numbers(ClientFrameSchema)).toEqual(tags.ClientFrameField);
    expect(numbers(PlaceSchema)).toEqual(tags.PlaceField);
    expect(numbers(PixelSchema)).toEqual(tags.PixelField);
    expect(numbers(PixelBatchSchema)).toEqual(tags.PixelBatchField);
    expect(numbers(AuthorSchema)).toEqual(tags.AuthorField);
    expect(numbers(PixelColumnsSchema)).toEqual(tags.PixelColumnsField);
    expect(numbers(ServerFrameSchema)).toEqual(tags.ServerFrameField);
    expect(numbers(BatchesSchema)).toEqual(tags.BatchesField);
    expect(numbers(AckSchema)).toEqual(tags.AckField);
    expect(numbers(WelcomeSchema)).toMatchObject(tags.WelcomeField);
  });

  it("combine field number and wire type into the one-byte tags on the wire", () => {
    expect([tags.PLACE_TAG, tags.PIXEL_X_TAG, tags.PIXEL_Y_TAG, tags.PIXEL_COLOR_TAG]).toEqual([0x12, 0x08, 0x10, 0x18]);
    expect([tags.BATCH_CANVAS_ID_TAG, tags.BATCH_SEQ_TAG, tags.BATCH_PIXEL_TAG, tags.BATCH_AUTHOR_TAG, tags.BATCH_TIME_TAG, tags.BATCH_EPOCH_TAG]).toEqual([0x0a, 0x10, 0x1a, 0x22, 0x28, 0x30]);
    expect([tags.BATCH_AUTHORS_TAG, tags.AUTHOR_USER_ID_TAG, tags.AUTHOR_NAME_TAG, tags.AUTHOR_PIXEL_COUNT_TAG]).toEqual([0x3a, 0x0a, 0x12, 0x18]);
    expect([tags.BATCH_COLUMNS_TAG, tags.COLUMN_X_TAG, tags.COLUMN_Y_TAG, tags.COLUMN_COLOR_TAG]).toEqual([0x42, 0x0a, 0x12, 0x1a]);
    expect([tags.WELCOME_FRAME_TAG, tags.BATCH_FRAME_TAG, tags.BATCHES_FRAME_TAG, tags.BATCHES_ITEM_TAG, tags.WELCOME_CONNECTION_ID_TAG]).toEqual([0x0a, 0x12, 0x3a, 0x0a, 0x42]);
    expect([tags.ACK_FRAME_TAG, tags.ACKS_ELEMENT_TAG, tags.ACK_CLIENT_SEQ_TAG, tags.ACK_SEQ_TAG]).toEqual([0x1a, 0x4a, 0x08, 0x10]);
  });
});
