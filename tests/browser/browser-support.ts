import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Point } from "../../web/src/protocol/line-pixels.js";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { decodeTilePng } from "../../services/canvas/tile-codec.js";
import { launchChromium } from "../../tools/process/chromium.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { REPO_ROOT, startService, type ServiceProcess } from "../../tools/process/service-process.js";

/** Where browser tests leave their screenshots. */
export const ARTIFACTS = join(REPO_ROOT, "test-results", "browser");
const ENTRY = "services/local/main.js";

/** How long the one-process system may take to be ready: opening its embedded placement log (PGlite, WASM) takes seconds on a busy machine. */
const START_TIMEOUT_MS = 60_000;

/** The screen canvas of the web app. */
export const CANVAS = '[data-testid="pixel-canvas"]';
/** The connection status pill. */
export const STATUS = '[data-testid="connection-status"]';

/** The one-URL system under test: services/local on free ports with its own data directory. */
export class LocalSystem {
  service: ServiceProcess | undefined;
  readonly dataDir = mkdtempSync(join(tmpdir(), "pixel-browser-"));
  env: Record<string, string> = {};

  /** `extraEnv` adds settings such as CANVAS_WIDTH to the ports and data directory. */
  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.env.WEB_PORT}/`;
  }

  async start(): Promise<void> {
    if (Object.keys(this.env).length === 0) {
      this.env = {
        WEB_PORT: String(await freePort()),
        CANVAS_GRPC_PORT: String(await freePort()),
        CANVAS_HTTP_PORT: String(await freePort()),
        GATEWAY_PORT: String(await freePort()),
        DATA_DIR: this.dataDir,
        ...this.extraEnv,
      };
    }
    this.service = await startService("local-browser", ENTRY, this.env, `${this.url}readyz`, START_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    this.service = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Checks the built system and Chromium are there, and launches Chromium. */
export async function launchBrowser(): Promise<Browser> {
  for (const built of [join(REPO_ROOT, "dist", ENTRY), join(REPO_ROOT, "web", "dist", "index.html")]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return launchChromium();
}

/**
 * Opens `url` in a fresh context (its own storage, like another person) and waits until it is live
 * and has drawn; `hasTouch` makes a touch-screen page, `name` sets the display name it joins with.
 */
export async function openLivePage(browser: Browser, url: string, contexts: BrowserContext[], options: { hasTouch?: boolean; name?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, hasTouch: options.hasTouch ?? false });
  contexts.push(context);
  // The app reads its display name from localStorage before it joins.
  if (options.name !== undefined) await context.addInitScript(`localStorage.setItem("pixel-playground.name", ${JSON.stringify(options.name)})`);
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector(`${STATUS}[data-state="live"]`, { timeout: 15_000 });
  await waitFor("the first frame is drawn", async () => (await page.locator(CANVAS).getAttribute("data-zoom")) !== null);
  return page;
}

/** The view the page last drew: where canvas (0, 0) is in the canvas element (CSS pixels) and the zoom. */
export interface DrawnView {
  originX: number;
  originY: number;
  zoom: number;
  /** The canvas element's top left in the page. */
  left: number;
  top: number;
}

/** Reads the view the screen canvas last drew, from its data attributes. */
export async function drawnView(page: Page): Promise<DrawnView> {
  const canvas = page.locator(CANVAS);
  const box = await canvas.boundingBox();
  const originX = Number(await canvas.getAttribute("data-origin-x"));
  const originY = Number(await canvas.getAttribute("data-origin-y"));
  const zoom = Number(await canvas.getAttribute("data-zoom"));
  if (!box || !Number.isFinite(originX) || !Number.isFinite(originY) || !(zoom > 0)) throw new Error("the canvas has not drawn a view yet");
  return { originX, originY, zoom, left: box.x, top: box.y };
}

/** The page position of the centre of canvas pixel `p` in the view the page shows. */
export async function pixelCentre(page: Page, p: Point): Promise<{ x: number; y: number }> {
  const v = await drawnView(page);
  return { x: v.left + v.originX + (p.x + 0.5) * v.zoom, y: v.top + v.originY + (p.y + 0.5) * v.zoom };
}

/** The canvas point (fractional canvas pixels) under page position `at`. */
export async function canvasPointAt(page: Page, at: { x: number; y: number }): Promise<Point> {
  const v = await drawnView(page);
  return { x: (at.x - v.left - v.originX) / v.zoom, y: (at.y - v.top - v.originY) / v.zoom };
}

/** Reads the RGB colour the screen canvas shows at page position `at` (its own bitmap, not the DOM). */
export async function screenColorAt(page: Page, at: { x: number; y: number }): Promise<number> {
  // A string, not a function: this file compiles without the DOM library.
  const rgb: unknown = await page.evaluate(
    `(() => { const el = document.querySelector('${CANVAS}'); const r = el.getBoundingClientRect(); const s = el.width / r.width;
      const d = el.getContext('2d').getImageData(Math.floor((${at.x} - r.left) * s), Math.floor((${at.y} - r.top) * s), 1, 1).data; return [d[0], d[1], d[2], d[3]]; })()`,
  );
  if (!Array.isArray(rgb) || rgb.length !== 4 || !rgb.every((v) => typeof v === "number")) throw new Error(`unexpected pixel read: ${JSON.stringify(rgb)}`);
  const [r, g, b, a] = rgb as [number, number, number, number];
  // A transparent screen pixel is beside the canvas, which no colour matches.
  return a === 0 ? -1 : (r << 16) | (g << 8) | b;
}

/**
 * Reads the colour the page shows for every canvas pixel of a width×height canvas in one go (at
 * each pixel's centre in the drawn view; -1 off screen), row by row.
 */
export async function shownCanvas(page: Page, width: number, height: number): Promise<number[]> {
  const v = await drawnView(page);
  const colours: unknown = await page.evaluate(
    `(() => { const el = document.querySelector('${CANVAS}'); const r = el.getBoundingClientRect(); const s = el.width / r.width;
      const d = el.getContext('2d').getImageData(0, 0, el.width, el.height).data; const out = [];
      for (let y = 0; y < ${height}; y++) for (let x = 0; x < ${width}; x++) {
        const px = Math.floor((${v.originX} + (x + 0.5) * ${v.zoom}) * s); const py = Math.floor((${v.originY} + (y + 0.5) * ${v.zoom}) * s);
        if (px < 0 || py < 0 || px >= el.width || py >= el.height) { out.push(-1); continue; }
        const o = (py * el.width + px) * 4; out.push(d[o + 3] === 0 ? -1 : (d[o] << 16) | (d[o + 1] << 8) | d[o + 2]); }
      return out; })()`,
  );
  if (!Array.isArray(colours) || colours.length !== width * height) throw new Error("unexpected canvas read");
  return colours as number[];
}

/** Reads the colour the page shows for canvas pixel `p`, at its centre in the current view. */
export async function readPixel(page: Page, p: Point): Promise<number> {
  return screenColorAt(page, await pixelCentre(page, p));
}

/** Waits until the page shows `color` for canvas pixel `p`. */
export async function waitForPixel(page: Page, p: Point, color: number, what: string): Promise<void> {
  await waitFor(`${what}: pixel (${p.x}, ${p.y}) = #${color.toString(16).padStart(6, "0")}`, async () => (await readPixel(page, p)) === color, 10_000);
}

/** The stored colour of canvas pixel `p`, from the API's GetCanvas. */
export async function storedColor(baseUrl: string, p: Point): Promise<number> {
  const res = await fetch(`${baseUrl}api/pixel.v1.CanvasService/GetCanvas`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  if (res.status !== 200) throw new Error(`GetCanvas answered ${res.status}`);
  const body = (await res.json()) as { width?: number; pixels?: string };
  const stored = Buffer.from(body.pixels ?? "", "base64");
  const i = (p.y * (body.width ?? 0) + p.x) * 3;
  return ((stored[i] ?? 0) << 16) | ((stored[i + 1] ?? 0) << 8) | (stored[i + 2] ?? 0);
}

/** The stored colour of one pixel of a canvas, read from its level-0 tile over the HTTP tile route. */
export async function storedTileColor(baseUrl: string, canvas: string, p: { x: number; y: number }): Promise<number> {
  const tx = Math.floor(p.x / TILE_SIZE);
  const ty = Math.floor(p.y / TILE_SIZE);
  const res = await fetch(`${baseUrl}api/tiles/${canvas}/0/${tx}/${ty}.png`);
  if (res.status !== 200) throw new Error(`the tile route answered ${res.status}`);
  const tile = decodeTilePng(new Uint8Array(await res.arrayBuffer()));
  const o = ((p.y - ty * TILE_SIZE) * tile.width + p.x - tx * TILE_SIZE) * 3;
  return (tile.pixels[o]! << 16) | (tile.pixels[o + 1]! << 8) | tile.pixels[o + 2]!;
}

/** The system and browser a describe block's tests share, as browserSuite hands them out. */
export interface BrowserSuite {
  system: LocalSystem;
  /** Contexts the tests open; each is closed after its test. */
  contexts: BrowserContext[];
  /** The launched browser (only inside tests and hooks: it starts in beforeAll). */
  readonly browser: Browser;
}

/**
 * Registers, in the calling describe block, the hooks every browser test file needs: start the
 * one-process system with `env` and launch Chromium before the tests, close each test's contexts
 * after it, and stop both at the end.
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  const system = new LocalSystem(env);
  const contexts: BrowserContext[] = [];
  let browser: Browser | undefined;
  beforeAll(async () => {
    await system.start();
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await system.dispose();
  });
  return {
    system,
    contexts,
    get browser(): Browser {
      if (!browser) throw new Error("the browser starts in beforeAll; use it inside tests");
      return browser;
    },
  };
}
