import { Code, ConnectError } from "@connectrpc/connect";
import type { Config } from "../shared/config.js";
import { WHITE, type CanvasInfo, type CanvasRegistry, type CanvasSpec, type CreatedCanvas } from "./canvas-registry.js";
import type { CanvasShape } from "./canvas-store.js";

/**
 * The canvases the service answers for: the registry, seeded with the configured canvases
 * (CANVAS_IDS, white, at their configured sizes). A seed is registered idempotently on its first
 * use or listing, so start-up order does not matter and every replica seeds the same entries; a
 * seed whose name was registered with another size keeps the registered one (the registry is the
 * truth once written).
 */
export class CanvasCatalog {
  private readonly seeds: Map<string, CanvasSpec>;
  /** Registry reads in flight, by name (misses are not kept: a canvas may be created any time). */
  private readonly lookups = new Map<string, Promise<CanvasInfo | undefined>>();

  constructor(
    private readonly registry: CanvasRegistry,
    config: Pick<Config, "canvasSizes">,
  ) {
    this.seeds = new Map([...config.canvasSizes].map(([name, size]) => [name, { name, ...size, background: WHITE }]));
  }

  /** True while the registry can answer (its Redis connection is up, or it is the in-memory one). */
  isReady(): boolean {
    return this.registry.isReady();
  }

  /**
   * The registered canvas, seeding it when configured; NotFound when it is neither registered nor
   * a seed. Concurrent first lookups of one name share one registry read, so calls for a canvas
   * leave here in the order they arrived (WritePixels keeps per-canvas order on that).
   */
  resolve(name: string): Promise<CanvasInfo> {
    const known = this.registry.known(name);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.lookups.get(name);
    if (pending === undefined) {
      pending = this.lookup(name).finally(() => this.lookups.delete(name));
      this.lookups.set(name, pending);
    }
    return pending.then((info) => {
      if (info === undefined) {
        throw new ConnectError(`canvas "${name.slice(0, 40)}" does not exist: ListCanvases lists the canvases, and an admin creates one with CreateCanvas`, Code.NotFound);
      }
      return info;
    });
  }

  /** Every canvas, seeds included, ordered by name. */
  async list(): Promise<CanvasInfo[]> {
    for (const name of this.seeds.keys()) if (this.registry.known(name) === undefined) await this.seed(name);
    return this.registry.list();
  }

  /** Registers a canvas (see CanvasRegistry.create); a seed's name is seeded first, so it keeps its configured size. */
  async create(spec: CanvasSpec): Promise<CreatedCanvas> {
    if (this.seeds.has(spec.name) && this.registry.known(spec.name) === undefined) await this.seed(spec.name);
    return this.registry.create(spec);
  }

  /** The size of a canvas this process has resolved, for the store (see CanvasShapeOf). */
  shapeOf(name: string): CanvasShape | undefined {
    return this.registry.known(name);
  }

  private async lookup(name: string): Promise<CanvasInfo | undefined> {
    return (await this.registry.get(name)) ?? (await this.seed(name));
  }

  private async seed(name: string): Promise<CanvasInfo | undefined> {
    const spec = this.seeds.get(name);
    if (spec === undefined) return undefined;
    try {
      return (await this.registry.create(spec)).info;
    } catch (err) {
      // Registered meanwhile with another size (a CreateCanvas, or another replica's other CANVAS_IDS).
      const registered = await this.registry.get(name);
      if (registered === undefined) throw err;
      return registered;
    }
  }
}
