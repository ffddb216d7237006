import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { linePixels, type Point } from "../../web/src/protocol/line-pixels.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { REPO_ROOT, startService, type ServiceProcess } from "../../tools/process/service-process.js";

/** Debian's Chromium, driven by playwright-core (see the README for installing it). */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ARTIFACTS = join(REPO_ROOT, "test-results", "browser");
const ENTRY = "services/local/main.js";

const CANVAS = '[data-testid="pixel-canvas"]';
const STATUS = '[data-testid="connection-status"]';

/** The one-URL system under test: services/local on free ports with its own data directory. */
class LocalSystem {
  service: ServiceProcess | undefined;
  readonly dataDir = mkdtempSync(join(tmpdir(), "pixel-browser-"));
  env: Record<string, string> = {};

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
      };
    }
    this.service = await startService("local-browser", ENTRY, this.env, `${this.url}readyz`);
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

/** Reads the RGB colour of canvas pixel (x, y) from the page's canvas element itself. */
async function readPixel(page: Page, x: number, y: number): Promise<number> {
  // A string, not a function: this file compiles without the DOM library.
  const rgb: unknown = await page.evaluate(
    `(() => { const d = document.querySelector('${CANVAS}').getContext('2d').getImageData(${x}, ${y}, 1, 1).data; return [d[0], d[1], d[2]]; })()`,
  );
  if (!Array.isArray(rgb) || rgb.length !== 3 || !rgb.every((v) => typeof v === "number")) throw new Error(`unexpected pixel read: ${JSON.stringify(rgb)}`);
  const [r, g, b] = rgb as [number, number, number];
  return (r << 16) | (g << 8) | b;
}

/** Waits until pixel (x, y) of the page's canvas shows `color`. */
async function waitForPixel(page: Page, p: Point, color: number, what: string): Promise<void> {
  await waitFor(`${what}: pixel (${p.x}, ${p.y}) = #${color.toString(16).padStart(6, "0")}`, async () => (await readPixel(page, p.x, p.y)) === color, 10_000);
}

/** The viewport position of the centre of canvas pixel (x, y). */
async function pixelCentre(page: Page, p: Point): Promise<{ x: number; y: number }> {
  const canvas = page.locator(CANVAS);
  const box = await canvas.boundingBox();
  const width = Number(await canvas.getAttribute("data-width"));
  const height = Number(await canvas.getAttribute("data-height"));
  if (!box || !(width > 0) || !(height > 0)) throw new Error("the canvas has no size yet");
  return { x: box.x + ((p.x + 0.5) * box.width) / width, y: box.y + ((p.y + 0.5) * box.height) / height };
}

async function openLivePage(browser: Browser, url: string, contexts: BrowserContext[]): Promise<Page> {
  // A fresh context per page: its own storage (name), cookies and cache, like another person.
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector(`${STATUS}[data-state="live"]`, { timeout: 15_000 });
  return page;
}

describe("the web app in two Chromium pages against the one-URL local system", () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const system = new LocalSystem();

  beforeAll(async () => {
    for (const built of [join(REPO_ROOT, "dist", ENTRY), join(REPO_ROOT, "web", "dist", "index.html")]) {
      if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
    }
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`sudo apt-get install -y chromium\``);
    mkdirSync(ARTIFACTS, { recursive: true });
    await system.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await system.dispose();
  });

  it("a click and a drag in one page appear, pixel for pixel, in the canvas of the other", async () => {
    const painter = await openLivePage(browser, system.url, contexts);
    const viewer = await openLivePage(browser, system.url, contexts);

    const red = 0xe63946;
    await painter.click('[data-testid="swatch-e63946"]');
    const dot = { x: 10, y: 7 };
    const at = await pixelCentre(painter, dot);
    await painter.mouse.click(at.x, at.y);

    // A drag whose few pointer samples are far apart: the stroke must still have no holes.
    const blue = 0x4895ef;
    await painter.click('[data-testid="swatch-4895ef"]');
    const from = { x: 5, y: 30 };
    const to = { x: 35, y: 18 };
    const a = await pixelCentre(painter, from);
    const b = await pixelCentre(painter, to);
    await painter.mouse.move(a.x, a.y);
    await painter.mouse.down();
    await painter.mouse.move(b.x, b.y, { steps: 3 });
    await painter.mouse.up();

    await waitForPixel(viewer, dot, red, "the click reaches the other page");
    for (const p of linePixels(from, to)) await waitForPixel(viewer, p, blue, "the drag reaches the other page");
    // The painter's own canvas shows the same, and a pixel nobody touched kept its colour.
    expect(await readPixel(painter, dot.x, dot.y)).toBe(red);
    expect(await readPixel(viewer, 45, 45)).toBe(await readPixel(painter, 45, 45));
    expect(await readPixel(viewer, 45, 45)).not.toBe(blue);

    // And it is stored, not just broadcast: the API agrees.
    const res = await fetch(`${system.url}api/pixel.v1.CanvasService/GetCanvas`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { width?: number; pixels?: string };
    const stored = Buffer.from(body.pixels ?? "", "base64");
    const i = (dot.y * (body.width ?? 0) + dot.x) * 3;
    expect([stored[i], stored[i + 1], stored[i + 2]]).toEqual([0xe6, 0x39, 0x46]);

    const presence = viewer.locator('[data-testid="online-count"]');
    await waitFor("both pages counted online", async () => (await presence.textContent()) === "2");
    await painter.screenshot({ path: join(ARTIFACTS, "two-pages-painter.png") });
    await viewer.screenshot({ path: join(ARTIFACTS, "two-pages-viewer.png") });
  });

  it("shows reconnecting… while the server is gone, refuses placements visibly, and recovers when it returns", async () => {
    const page = await openLivePage(browser, system.url, contexts);
    const green = 0x06a77d;
    await page.click('[data-testid="swatch-06a77d"]');
    const before = { x: 20, y: 2 };
    const at = await pixelCentre(page, before);
    await page.mouse.click(at.x, at.y);
    await waitForPixel(page, before, green, "a placement while live");
    // Let the write reach the store before the shutdown.
    await waitFor("the placement is stored", async () => {
      const res = await fetch(`${system.url}api/pixel.v1.CanvasService/GetCanvas`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      const body = (await res.json()) as { width?: number; pixels?: string };
      const stored = Buffer.from(body.pixels ?? "", "base64");
      const i = (before.y * (body.width ?? 0) + before.x) * 3;
      return stored[i] === 0x06 && stored[i + 1] === 0xa7 && stored[i + 2] === 0x7d;
    });

    await system.stop();
    await page.waitForSelector(`${STATUS}[data-state="reconnecting"]`, { timeout: 10_000 });
    expect(await page.locator(STATUS).textContent()).toContain("reconnecting…");
    expect(await page.locator(CANVAS).getAttribute("data-accepting")).toBe("false");

    // Drawing now is refused visibly: a notice says so and nothing is painted.
    const refused = { x: 30, y: 3 };
    const colourBefore = await readPixel(page, refused.x, refused.y);
    const r = await pixelCentre(page, refused);
    await page.mouse.click(r.x, r.y);
    const notice = page.locator('[data-testid="notice"]', { hasText: "nothing was placed" });
    await notice.waitFor({ timeout: 5_000 });
    expect(await notice.textContent()).toContain("Not connected (reconnecting…)");
    expect(await readPixel(page, refused.x, refused.y)).toBe(colourBefore);
    await page.screenshot({ path: join(ARTIFACTS, "reconnecting.png") });

    await system.start();
    await page.waitForSelector(`${STATUS}[data-state="live"]`, { timeout: 15_000 });
    // The drawing survived the restart, and drawing works again without reloading the page.
    expect(await readPixel(page, before.x, before.y)).toBe(green);
    expect(await readPixel(page, refused.x, refused.y)).toBe(colourBefore);
    const again = await pixelCentre(page, refused);
    await page.mouse.click(again.x, again.y);
    await waitForPixel(page, refused, green, "a placement after recovery");
    const viewer = await openLivePage(browser, system.url, contexts);
    await waitForPixel(viewer, refused, green, "the recovered placement reaches a new page");
    await page.screenshot({ path: join(ARTIFACTS, "recovered.png") });
  });

  it("runs under the web tier's Content-Security-Policy without a violation, and the policy is enforced", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    await page.addInitScript(`document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI))`);
    const response = await page.goto(system.url);
    expect(response?.headers()["content-security-policy"]).toContain("connect-src 'self'");
    // Live means the WebSocket to the same origin opened under connect-src 'self'.
    await page.waitForSelector(`${STATUS}[data-state="live"]`, { timeout: 15_000 });
    const purple = 0x9b5de5;
    await page.click('[data-testid="swatch-9b5de5"]');
    const p = { x: 40, y: 40 };
    const at = await pixelCentre(page, p);
    await page.mouse.click(at.x, at.y);
    await waitForPixel(page, p, purple, "a placement under the CSP");
    expect(problems).toEqual([]);

    // The check is real: an injected inline script is blocked and reported.
    const ran: unknown = await page.evaluate(
      `(() => { const s = document.createElement("script"); s.textContent = "window.injected = true"; document.head.append(s); return window.injected === true; })()`,
    );
    expect(ran).toBe(false);
    await waitFor("the violation is reported", () => problems.some((m) => m.startsWith("CSP violation: script-src")), 5_000);
  });
});
