import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomically } from "./atomic-file.js";
import { parseTileName, TILE_SIZE, tileGridSize, tileName, tileRect } from "../../protocol/tile-grid.js";
import { cutTile } from "./assemble-tiles.js";
import { uniformColor } from "./tile-codec.js";

/** File magic and format versions of a saved canvas: 1 held the whole canvas, 2 holds painted tiles. */
const MAGIC = "PXCV";
const VERSION = 2;
const LEGACY_VERSION = 1;
/** magic, version, clean, width, height, seq, epoch; then in version 2: tile size, tile count. */
const V1_HEADER_BYTES = 4 + 1 + 1 + 4 + 4 + 8 + 8;
const HEADER_BYTES = V1_HEADER_BYTES + 4 + 4;
/** Before each tile's pixels: column, row (2 bytes each), version (8 bytes). */
const TILE_HEADER_BYTES = 2 + 2 + 8;

/** A painted level-0 tile as the embedded store keeps it. */
export interface StoredTile {
  /** The seq of the last batch that painted it. */
  version: number;
  /** Row-major RGB of the tile's clipped size. */
  pixels: Uint8Array;
}

/** A canvas as saved on disk by the embedded store. */
export interface CanvasFileData {
  width: number;
  height: number;
  seq: number;
  epoch: number;
  /** True only when written by a graceful close, i.e. nothing acknowledged came after it. */
  clean: boolean;
  /** Painted tiles by tile name ("tx:ty"); a tile never painted is absent. */
  tiles: Map<string, StoredTile>;
  /** Set when the file was in the format before tiles and was converted while reading. */
  migratedFrom?: number;
}

/** Thrown when a canvas file exists but cannot be understood; the store refuses to overwrite it. */
export class CanvasFileError extends Error {
  override readonly name = "CanvasFileError";
}

/** The file holding one canvas under a data directory (canvas ids are restricted to [a-z0-9-]). */
export function canvasFilePath(dataDir: string, canvasId: string): string {
  return join(dataDir, `canvas-${canvasId}.bin`);
}

/**
 * Reads a saved canvas; resolves undefined when there is no file yet. A version 1 file (the whole
 * canvas in one piece) is cut into tiles, each tile not all white at the file's seq.
 */
export async function readCanvasFile(path: string): Promise<CanvasFileData | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (bytes.length < V1_HEADER_BYTES || bytes.toString("latin1", 0, 4) !== MAGIC || (bytes[4] !== VERSION && bytes[4] !== LEGACY_VERSION)) {
    throw new CanvasFileError(`${path} is not a version ${LEGACY_VERSION} or ${VERSION} canvas file`);
  }
  const head = {
    clean: bytes[5] === 1,
    width: bytes.readUInt32BE(6),
    height: bytes.readUInt32BE(10),
    seq: Number(bytes.readBigUInt64BE(14)),
    epoch: Number(bytes.readBigUInt64BE(22)),
  };
  if (bytes[4] === LEGACY_VERSION) return { ...head, tiles: readLegacyTiles(path, bytes, head.width, head.height, head.seq), migratedFrom: LEGACY_VERSION };
  return { ...head, tiles: readTiles(path, bytes, head.width, head.height) };
}

function readLegacyTiles(path: string, bytes: Buffer, width: number, height: number, seq: number): Map<string, StoredTile> {
  if (bytes.length !== V1_HEADER_BYTES + width * height * 3) {
    throw new CanvasFileError(`${path} is truncated: ${bytes.length} bytes for a ${width}x${height} canvas`);
  }
  const canvas = bytes.subarray(V1_HEADER_BYTES);
  const tiles = new Map<string, StoredTile>();
  const { columns, rows } = tileGridSize(width, height);
  for (let ty = 0; ty < rows; ty++) {
    for (let tx = 0; tx < columns; tx++) {
      const pixels = cutTile(canvas, width, tileRect(width, height, 0, { tx, ty })!);
      const color = uniformColor(pixels);
      if (color === undefined || color.some((c) => c !== 0xff)) tiles.set(tileName({ tx, ty }), { version: seq, pixels });
    }
  }
  return tiles;
}

function readTiles(path: string, bytes: Buffer, width: number, height: number): Map<string, StoredTile> {
  if (bytes.length < HEADER_BYTES) throw new CanvasFileError(`${path} is truncated: ${bytes.length} bytes`);
  const tileSize = bytes.readUInt32BE(30);
  if (tileSize !== TILE_SIZE) throw new CanvasFileError(`${path} has tiles of ${tileSize} pixels; this version uses ${TILE_SIZE}`);
  const count = bytes.readUInt32BE(34);
  const tiles = new Map<string, StoredTile>();
  let o = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const coord = o + TILE_HEADER_BYTES <= bytes.length ? { tx: bytes.readUInt16BE(o), ty: bytes.readUInt16BE(o + 2) } : undefined;
    const rect = coord && tileRect(width, height, 0, coord);
    const length = rect ? rect.width * rect.height * 3 : 0;
    if (!rect || o + TILE_HEADER_BYTES + length > bytes.length) throw new CanvasFileError(`${path} is truncated or corrupt at tile ${i} of ${count}`);
    tiles.set(tileName(coord!), { version: Number(bytes.readBigUInt64BE(o + 4)), pixels: new Uint8Array(bytes.subarray(o + TILE_HEADER_BYTES, o + TILE_HEADER_BYTES + length)) });
    o += TILE_HEADER_BYTES + length;
  }
  if (o !== bytes.length) throw new CanvasFileError(`${path} has ${bytes.length - o} bytes after its last tile`);
  return tiles;
}

/** Saves a canvas atomically (writeFileAtomically): a crash leaves either the old or the new file, never a mix. */
export async function writeCanvasFile(path: string, data: CanvasFileData): Promise<void> {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, "latin1");
  header[4] = VERSION;
  header[5] = data.clean ? 1 : 0;
  header.writeUInt32BE(data.width, 6);
  header.writeUInt32BE(data.height, 10);
  header.writeBigUInt64BE(BigInt(data.seq), 14);
  header.writeBigUInt64BE(BigInt(data.epoch), 22);
  header.writeUInt32BE(TILE_SIZE, 30);
  header.writeUInt32BE(data.tiles.size, 34);
  const parts: Uint8Array[] = [header];
  for (const [name, tile] of data.tiles) {
    const coord = parseTileName(name)!;
    const tileHeader = Buffer.alloc(TILE_HEADER_BYTES);
    tileHeader.writeUInt16BE(coord.tx, 0);
    tileHeader.writeUInt16BE(coord.ty, 2);
    tileHeader.writeBigUInt64BE(BigInt(tile.version), 4);
    parts.push(tileHeader, tile.pixels);
  }
  await writeFileAtomically(path, parts);
}
