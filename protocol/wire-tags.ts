/**
 * Field numbers and one-byte tags of the pixel.v1 messages the scanners and frame builders
 * read and write by hand. A tag is `field number << 3 | wire type`; wire-tags.test.ts checks
 * every field number against the generated descriptors, so a .proto change cannot drift past.
 */

/** Protobuf wire types. */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** The tag of field `field` with wire type `wireType`. */
export function fieldTag(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/** pixel.v1.ClientFrame field numbers (the `frame` oneof). */
export const ClientFrameField = { HELLO: 1, PLACE: 2, SET_NAME: 3, PING: 4, WATCH: 5 } as const;

/** pixel.v1.Place field numbers. */
export const PlaceField = { CLIENT_SEQ: 1, PIXELS: 2 } as const;

/** pixel.v1.Pixel field numbers. */
export const PixelField = { X: 1, Y: 2, COLOR: 3 } as const;

/** pixel.v1.PixelBatch field numbers. */
export const PixelBatchField = { CANVAS_ID: 1, SEQ: 2, PIXELS: 3, AUTHOR: 4, TIME_UNIX_MS: 5, EPOCH: 6, AUTHORS: 7, COLUMNS: 8 } as const;

/** pixel.v1.PixelColumns field numbers. */
export const PixelColumnsField = { X: 1, Y: 2, COLOR: 3 } as const;

/** pixel.v1.Author field numbers. */
export const AuthorField = { USER_ID: 1, NAME: 2, PIXEL_COUNT: 3, IP_KEY: 4 } as const;

/** pixel.v1.ServerFrame field numbers (the `frame` oneof, then `acks` beside it). */
export const ServerFrameField = { WELCOME: 1, BATCH: 2, ACK: 3, ERROR: 4, PRESENCE: 5, PONG: 6, BATCHES: 7, WATCHING: 8, ACKS: 9 } as const;

/** pixel.v1.Ack field numbers. */
export const AckField = { CLIENT_SEQ: 1, SEQ: 2 } as const;

/** pixel.v1.Batches field numbers. */
export const BatchesField = { BATCHES: 1 } as const;

/** pixel.v1.Welcome field numbers the gateway writes by hand. */
export const WelcomeField = { CONNECTION_ID: 8 } as const;

/** ClientFrame.place: the first byte of nearly every frame a gateway reads. */
export const PLACE_TAG = fieldTag(ClientFrameField.PLACE, WireType.LENGTH_DELIMITED);

/** Pixel.x, Pixel.y and Pixel.color as varints. */
export const PIXEL_X_TAG = fieldTag(PixelField.X, WireType.VARINT);
export const PIXEL_Y_TAG = fieldTag(PixelField.Y, WireType.VARINT);
export const PIXEL_COLOR_TAG = fieldTag(PixelField.COLOR, WireType.VARINT);

/** PixelBatch fields as the store and the scanners write and read them. */
export const BATCH_CANVAS_ID_TAG = fieldTag(PixelBatchField.CANVAS_ID, WireType.LENGTH_DELIMITED);
export const BATCH_SEQ_TAG = fieldTag(PixelBatchField.SEQ, WireType.VARINT);
export const BATCH_PIXEL_TAG = fieldTag(PixelBatchField.PIXELS, WireType.LENGTH_DELIMITED);
export const BATCH_AUTHOR_TAG = fieldTag(PixelBatchField.AUTHOR, WireType.LENGTH_DELIMITED);
export const BATCH_TIME_TAG = fieldTag(PixelBatchField.TIME_UNIX_MS, WireType.VARINT);
export const BATCH_EPOCH_TAG = fieldTag(PixelBatchField.EPOCH, WireType.VARINT);
export const BATCH_AUTHORS_TAG = fieldTag(PixelBatchField.AUTHORS, WireType.LENGTH_DELIMITED);
export const BATCH_COLUMNS_TAG = fieldTag(PixelBatchField.COLUMNS, WireType.LENGTH_DELIMITED);
/** PixelColumns.x, .y and .color, each one packed run of varints. */
export const COLUMN_X_TAG = fieldTag(PixelColumnsField.X, WireType.LENGTH_DELIMITED);
export const COLUMN_Y_TAG = fieldTag(PixelColumnsField.Y, WireType.LENGTH_DELIMITED);
export const COLUMN_COLOR_TAG = fieldTag(PixelColumnsField.COLOR, WireType.LENGTH_DELIMITED);

/** Author fields as the store writes them into PixelBatch.authors. */
export const AUTHOR_USER_ID_TAG = fieldTag(AuthorField.USER_ID, WireType.LENGTH_DELIMITED);
export const AUTHOR_NAME_TAG = fieldTag(AuthorField.NAME, WireType.LENGTH_DELIMITED);
export const AUTHOR_PIXEL_COUNT_TAG = fieldTag(AuthorField.PIXEL_COUNT, WireType.VARINT);

/** ServerFrame.welcome, .batch and .batches: the first byte of the frames the gateway frames by hand. */
export const WELCOME_FRAME_TAG = fieldTag(ServerFrameField.WELCOME, WireType.LENGTH_DELIMITED);
export const BATCH_FRAME_TAG = fieldTag(ServerFrameField.BATCH, WireType.LENGTH_DELIMITED);
export const BATCHES_FRAME_TAG = fieldTag(ServerFrameField.BATCHES, WireType.LENGTH_DELIMITED);
/** ServerFrame.ack, and one element of ServerFrame.acks (protocol 3). */
export const ACK_FRAME_TAG = fieldTag(ServerFrameField.ACK, WireType.LENGTH_DELIMITED);
export const ACKS_ELEMENT_TAG = fieldTag(ServerFrameField.ACKS, WireType.LENGTH_DELIMITED);
/** Ack.client_seq and Ack.seq as varints. */
export const ACK_CLIENT_SEQ_TAG = fieldTag(AckField.CLIENT_SEQ, WireType.VARINT);
export const ACK_SEQ_TAG = fieldTag(AckField.SEQ, WireType.VARINT);
/** Batches.batches: one PixelBatch of a coalesced frame. */
export const BATCHES_ITEM_TAG = fieldTag(BatchesField.BATCHES, WireType.LENGTH_DELIMITED);
/** Welcome.connection_id, appended to a cached Welcome body. */
export const WELCOME_CONNECTION_ID_TAG = fieldTag(WelcomeField.CONNECTION_ID, WireType.LENGTH_DELIMITED);
