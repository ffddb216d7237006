/** The public API of the DOM-free client protocol library, for the app, benchmarks and chaos tests. */
export { CanvasClient } from "./canvas-client.js";
export type { CanvasChange, CanvasClientEvents, CanvasClientOptions, ConnectionState, PlaceLimits, PlaceResult } from "./canvas-client-types.js";
export { CanvasState, UNLOADED_COLOR, type ApplyResult, type BatchLike, type WelcomeLike } from "./canvas-state.js";
export { TileCopies, type TileRead, type TileReader } from "./tile-copies.js";
export { httpTileReader, decodeTileRgb } from "./http-tile-reader.js";
export { decodeClientFrame, decodeServerFrame, encodeClientFrame, encodeServerFrame, helloFrame, pingFrame, placeFrame, setNameFrame, watchFrame, type DecodeResult, type DecodedClientFrame } from "../../../protocol/frame-codec.js";
export { validatePixels, type PixelLike } from "../../../protocol/pixel-validation.js";
export { batchContinuity, type BatchContinuity, type SeqPosition } from "../../../protocol/batch-continuity.js";
export { backoffDelayMs } from "./backoff.js";
export { PixelPacer } from "./pixel-pacer.js";
export { linePixels, type Point } from "./line-pixels.js";
export { DirtyRegion, type Rect } from "./rect.js";
export { systemClock, type Clock } from "./clock.js";
export type { SocketFactory, SocketHandle, SocketHandlers } from "./socket.js";
export * from "./timing.js";
