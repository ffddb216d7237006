import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreUnavailableError } from "./canvas-store.js";
import { writeFileAtomically } from "./atomic-file.js";
import { CanvasExistsError, describeConflict, formatCanvasInfo, parseCanvasInfo, sameSpec, type CanvasInfo, type CanvasRegistry, type CanvasSpec, type CreatedCanvas } from "./canvas-registry.js";

/** The registry file under a data directory: a JSON object of name -> stored entry. */
export function registryFilePath(dataDir: string): string {
  return join(dataDir, "canvases.json");
}

/**
 * The embedded store's registry: in memory, saved under `dataDir` (atomically, before a create
 * resolves, so a registered canvas survives any restart); unset keeps it in memory only.
 */
export class MemoryCanvasRegistry implements CanvasRegistry {
  private entries: Promise<Map<string, CanvasInfo>> | undefined;
  /** The entries once read, for `known`. */
  private loaded: Map<string, CanvasInfo> | undefined;
  /** The save in progress, so saves never overlap. */
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly dataDir?: string) {}

  async create(spec: CanvasSpec): Promise<CreatedCanvas> {
    const entries = await this.load();
    const existing = entries.get(spec.name);
    if (existing !== undefined) {
      if (!sameSpec(existing, spec)) throw new CanvasExistsError(describeConflict(existing));
      return { info: existing, created: false };
    }
    const info = { ...spec, createdUnixMs: Date.now() };
    entries.set(spec.name, info);
    await this.save(entries);
    return { info, created: true };
  }

  async get(name: string): Promise<CanvasInfo | undefined> {
    return (await this.load()).get(name);
  }

  async list(): Promise<CanvasInfo[]> {
    return [...(await this.load()).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  known(name: string): CanvasInfo | undefined {
    return this.loaded?.get(name);
  }

  isReady(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.saving;
  }

  private load(): Promise<Map<string, CanvasInfo>> {
    if (this.closed) return Promise.reject(new StoreUnavailableError("the canvas registry is closed"));
    this.entries ??= this.readFile().then((entries) => (this.loaded = entries));
    return this.entries;
  }

  private async readFile(): Promise<Map<string, CanvasInfo>> {
    const entries = new Map<string, CanvasInfo>();
    if (this.dataDir === undefined) return entries;
    let text: string;
    try {
      text = await readFile(registryFilePath(this.dataDir), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return entries;
      throw err;
    }
    for (const [name, stored] of Object.entries(JSON.parse(text) as Record<string, unknown>)) {
      entries.set(name, parseCanvasInfo(name, JSON.stringify(stored)));
    }
    return entries;
  }

  private save(entries: Map<string, CanvasInfo>): Promise<void> {
    const dataDir = this.dataDir;
    if (dataDir === undefined) return Promise.resolve();
    const text = `{${[...entries.values()].map((info) => `${JSON.stringify(info.name)}:${formatCanvasInfo(info)}`).join(",")}}\n`;
    const next = this.saving.then(() => writeFileAtomically(registryFilePath(dataDir), [Buffer.from(text)]));
    this.saving = next.catch(() => undefined);
    return next;
  }
}
