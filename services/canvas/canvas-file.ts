import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/** File magic and format version of a saved canvas. */
const MAGIC = "PXCV";
const VERSION = 1;
const HEADER_BYTES = 4 + 1 + 1 + 4 + 4 + 8 + 8;

/** A canvas as saved on disk by the embedded store. */
export interface CanvasFileData {
  width: number;
  height: number;
  seq: number;
  epoch: number;
  /** True only when written by a graceful close, i.e. nothing acknowledged came after it. */
  clean: boolean;
  pixels: Uint8Array;
}

/** Thrown when a canvas file exists but cannot be understood; the store refuses to overwrite it. */
export class CanvasFileError extends Error {
  override readonly name = "CanvasFileError";
}

/** The file holding one canvas under a data directory (canvas ids are restricted to [a-z0-9-]). */
export function canvasFilePath(dataDir: string, canvasId: string): string {
  return join(dataDir, `canvas-${canvasId}.bin`);
}

/** Reads a saved canvas; resolves undefined when there is no file yet. */
export async function readCanvasFile(path: string): Promise<CanvasFileData | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (bytes.length < HEADER_BYTES || bytes.toString("latin1", 0, 4) !== MAGIC || bytes[4] !== VERSION) {
    throw new CanvasFileError(`${path} is not a version ${VERSION} canvas file`);
  }
  const width = bytes.readUInt32BE(6);
  const height = bytes.readUInt32BE(10);
  if (bytes.length !== HEADER_BYTES + width * height * 3) {
    throw new CanvasFileError(`${path} is truncated: ${bytes.length} bytes for a ${width}x${height} canvas`);
  }
  return {
    clean: bytes[5] === 1,
    width,
    height,
    seq: Number(bytes.readBigUInt64BE(14)),
    epoch: Number(bytes.readBigUInt64BE(22)),
    pixels: new Uint8Array(bytes.subarray(HEADER_BYTES)),
  };
}

/**
 * Saves a canvas atomically: write a temporary file, fsync it, rename it over the old one, then
 * fsync the directory. A crash at any point leaves either the old or the new file, never a mix.
 */
export async function writeCanvasFile(path: string, data: CanvasFileData): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, "latin1");
  header[4] = VERSION;
  header[5] = data.clean ? 1 : 0;
  header.writeUInt32BE(data.width, 6);
  header.writeUInt32BE(data.height, 10);
  header.writeBigUInt64BE(BigInt(data.seq), 14);
  header.writeBigUInt64BE(BigInt(data.epoch), 22);
  const temp = `${path}.${process.pid}.tmp`;
  const file = await open(temp, "w");
  try {
    await file.writev([header, data.pixels]);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
