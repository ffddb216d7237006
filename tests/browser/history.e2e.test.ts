import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decode } from "fast-png";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { HistoryService, type ArchivedBatch } from "../../gen/pixel/v1/history_pb.js";
import type { Point } from "../../web/src/protocol/line-pixels.js";
import { waitFor } from "../../tools/process/free-port.js";
import { ARTIFACTS, CANVAS, browserSuite, openLivePage, pixelCentre, shownCanvas, storedColor, waitForPixel } from "./browser-support.js";

const W = 40;
const H = 30;

describe("history in the web app: lookup, undo, timelapse and PNG download, in Chromium against npm start's system", () => {
  const suite = browserSuite({ CANVAS_WIDTH: String(W), CANVAS_HEIGHT: String(H) });
  const { system, contexts } = suite;
  const transport = () => createConnectTransport({ baseUrl: `${system.url}api`, httpVersion: "1.1" });
  const canvasApi = () => createClient(CanvasService, transport());
  const historyApi = () => createClient(HistoryService, transport());

  // npm start serves at once while its embedded log (PGlite) opens, which on a fresh checkout means
  // creating the database (tens of seconds on a busy machine); history calls wait for it. The tests
  // time the features, not that start-up: wait for one history call to answer first.
  beforeAll(async () => {
    await waitFor("the placement log answers", async () => {
      try {
        await historyApi().getPlacements({});
        return true;
      } catch {
        return false;
      }
    }, 120_000);
  }, 130_000);

  /** Picks a preset colour and clicks canvas pixel `p`, then waits until the store has it. */
  async function paint(page: Page, p: Point, color: number): Promise<void> {
    await page.click(`[data-testid="swatch-${color.toString(16).padStart(6, "0")}"]`);
    const at = await pixelCentre(page, p);
    await page.mouse.click(at.x, at.y);
    await waitFor(`(${p.x}, ${p.y}) is stored`, async () => (await storedColor(system.url, p)) === color, 10_000);
  }

  /** Waits until the placement log holds every batch the canvas has stored; returns all archived batches. */
  async function archivedBatches(): Promise<{ batches: ArchivedBatch[]; background: number }> {
    const { seq } = await canvasApi().getCanvas({});
    let page = await historyApi().getPlacements({});
    await waitFor(`the log archived seq ${seq}`, async () => {
      page = await historyApi().getPlacements({});
      return page.archivedSeq >= seq;
    }, 10_000);
    const batches = [...page.batches];
    while (page.nextAfterSeq < page.archivedSeq && page.batches.length > 0) {
      page = await historyApi().getPlacements({ afterSeq: page.nextAfterSeq });
      batches.push(...page.batches);
    }
    return { batches, background: page.backgroundColor };
  }

  /** The canvas (0xRRGGBB per pixel, row by row) after replaying `batches` over `background`. */
  function replay(batches: readonly ArchivedBatch[], background: number): number[] {
    const canvas = new Array<number>(W * H).fill(background);
    for (const b of batches) for (const p of b.batch!.pixels) canvas[p.y * W + p.x] = p.color;
    return canvas;
  }

  /** The PNG the page downloads when its download button is pressed, decoded to 0xRRGGBB pixels. */
  async function download(page: Page): Promise<{ width: number; height: number; pixels: number[] }> {
    const [file] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="download-png"]')]);
    const path = await file.path();
    const png = decode(readFileSync(path));
    const pixels: number[] = [];
    for (let i = 0; i < png.width * png.height; i++) {
      const o = i * png.channels;
      pixels.push((png.data[o]! << 16) | (png.data[o + 1]! << 8) | png.data[o + 2]!);
    }
    return { width: png.width, height: png.height, pixels };
  }

  async function openTimelapse(page: Page): Promise<void> {
    await page.click('[data-testid="timelapse-toggle"]');
    await page.waitForSelector('[data-testid="timelapse-bar"][data-state="ready"]', { timeout: 15_000 });
  }

  /** Drags the scrub bar to `batches` batches, as an input event, and waits for the canvas to draw it at `seq`. */
  async function scrub(page: Page, batches: number, seq: bigint): Promise<void> {
    await page.evaluate(`(() => { const el = document.querySelector('[data-testid="timelapse-scrub"]'); el.value = "${batches}"; el.dispatchEvent(new Event("input", { bubbles: true })); })()`);
    await waitFor(`the timelapse shows seq ${seq}`, async () => (await page.locator(CANVAS).getAttribute("data-timelapse-seq")) === String(seq), 5_000);
  }

  it("hovering a pixel shows who placed it at any zoom, and the inspector lists what was there before", async () => {
    const alice = await openLivePage(suite.browser, system.url, contexts, { name: "alice" });
    const bob = await openLivePage(suite.browser, system.url, contexts, { name: "bob" });
    // Near the centre, so it stays on screen when zooming in around the centre.
    const p = { x: 19, y: 14 };
    await paint(alice, p, 0xe63946);
    await paint(alice, p, 0x4895ef);

    const author = bob.locator('[data-testid="pixel-info-author"]').first();
    const hover = async (): Promise<void> => {
      await bob.mouse.move(1, 1);
      const at = await pixelCentre(bob, p);
      await bob.mouse.move(at.x, at.y);
      await waitFor("the lookup names alice", async () => (await author.count()) > 0 && (await author.textContent()) === "alice", 20_000);
    };
    await hover();
    for (let i = 0; i < 3; i++) await bob.keyboard.press("+");
    await hover();
    await bob.keyboard.press("0");
    for (let i = 0; i < 2; i++) await bob.keyboard.press("-");
    await hover();

    // The inspector pins the pixel's history: both of alice's placements, newest first, the first over the background.
    await bob.keyboard.press("i");
    const at = await pixelCentre(bob, p);
    await bob.mouse.click(at.x, at.y);
    const rows = bob.locator('[data-testid="pixel-info"] li');
    await waitFor("two placements listed", async () => (await rows.count()) === 2, 10_000);
    expect(await bob.locator('[data-testid="pixel-info-author"]').allTextContents()).toEqual(["alice", "alice"]);
    expect(await rows.first().textContent()).toContain("seq");
    await bob.screenshot({ path: join(ARTIFACTS, "history-inspect.png") });
  });

  it("Ctrl+Z undoes your own last placement for every client, and a refused undo says why", async () => {
    const alice = await openLivePage(suite.browser, system.url, contexts, { name: "alice" });
    const bob = await openLivePage(suite.browser, system.url, contexts, { name: "bob" });
    const p = { x: 20, y: 12 };
    const before = await storedColor(system.url, p);
    await paint(alice, p, 0x06a77d);
    await waitForPixel(bob, p, 0x06a77d, "bob sees alice's placement");

    await alice.keyboard.press("Control+z");
    await alice.locator('[data-testid="notice"][data-kind="info"]', { hasText: "Undone:" }).waitFor({ timeout: 5_000 });
    await waitForPixel(bob, p, before, "the undo reaches bob");
    await waitForPixel(alice, p, before, "alice's own page converges");
    expect(await storedColor(system.url, p)).toBe(before);

    // Nothing of alice's is left to undo: the button's undo is refused, in the server's words.
    await alice.click('[data-testid="undo"]');
    const refused = alice.locator('[data-testid="notice"][data-kind="error"]', { hasText: "Not undone:" });
    await refused.waitFor({ timeout: 5_000 });
    expect((await refused.textContent())!.length).toBeGreaterThan("Not undone: .".length);
    expect(await storedColor(system.url, p)).toBe(before);
  });

  it("the timelapse scrubs: at every position chosen the canvas equals the replay up to that seq, and playing ends at the canvas now", async () => {
    const alice = await openLivePage(suite.browser, system.url, contexts, { name: "alice" });
    const colours = [0xe63946, 0xffd166, 0x4895ef, 0x9b5de5];
    for (let i = 0; i < 8; i++) await paint(alice, { x: 2 + ((i * 5) % 12), y: 20 + (i % 3) }, colours[i % colours.length]!);
    const { batches, background } = await archivedBatches();
    expect(batches.length).toBeGreaterThanOrEqual(8);

    const viewer = await openLivePage(suite.browser, system.url, contexts);
    await openTimelapse(viewer);
    for (const k of [1, batches.length, Math.floor(batches.length / 2), 2, batches.length - 3]) {
      await scrub(viewer, k, batches[k - 1]!.batch!.seq);
      expect(await shownCanvas(viewer, W, H)).toEqual(replay(batches.slice(0, k), background));
    }
    await viewer.selectOption('[data-testid="timelapse-speed"]', "1000");
    await viewer.click('[data-testid="timelapse-play"]');
    await waitFor("the timelapse plays to the end", async () => (await viewer.locator(CANVAS).getAttribute("data-timelapse-seq")) === String(batches.at(-1)!.batch!.seq), 20_000);
    const now = await canvasApi().getCanvas({});
    const stored = Array.from({ length: W * H }, (_, i) => (now.pixels[i * 3]! << 16) | (now.pixels[i * 3 + 1]! << 8) | now.pixels[i * 3 + 2]!);
    expect(await shownCanvas(viewer, W, H)).toEqual(stored);
    await viewer.screenshot({ path: join(ARTIFACTS, "history-timelapse.png") });
  });

  it("the PNG download matches GetCanvas byte for byte after decoding: whole canvas, the view, and at the timelapse position", async () => {
    const alice = await openLivePage(suite.browser, system.url, contexts, { name: "alice" });
    await paint(alice, { x: 33, y: 3 }, 0xffd166);
    await paint(alice, { x: 0, y: 29 }, 0x3a0ca3);
    const now = await canvasApi().getCanvas({});
    const stored = Array.from({ length: W * H }, (_, i) => (now.pixels[i * 3]! << 16) | (now.pixels[i * 3 + 1]! << 8) | now.pixels[i * 3 + 2]!);

    const whole = await download(alice);
    expect({ width: whole.width, height: whole.height }).toEqual({ width: W, height: H });
    expect(whole.pixels).toEqual(stored);

    // Zoomed in, "this view" is the canvas pixels on screen.
    for (let i = 0; i < 3; i++) await alice.keyboard.press("+");
    await alice.selectOption('[data-testid="download-scope"]', "view");
    const v = await alice.locator(CANVAS).evaluate((el) => ({ x: Number(el.dataset.originX), y: Number(el.dataset.originY), zoom: Number(el.dataset.zoom), w: el.clientWidth, h: el.clientHeight }));
    const x0 = Math.max(0, Math.floor(-v.x / v.zoom));
    const y0 = Math.max(0, Math.floor(-v.y / v.zoom));
    const x1 = Math.min(W, Math.ceil((v.w - v.x) / v.zoom));
    const y1 = Math.min(H, Math.ceil((v.h - v.y) / v.zoom));
    const view = await download(alice);
    expect({ width: view.width, height: view.height }).toEqual({ width: x1 - x0, height: y1 - y0 });
    const region: number[] = [];
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) region.push(stored[y * W + x]!);
    expect(view.pixels).toEqual(region);

    // At the timelapse position: the canvas as it was right after that seq.
    await alice.selectOption('[data-testid="download-scope"]', "canvas");
    const { batches, background } = await archivedBatches();
    await openTimelapse(alice);
    const k = Math.max(1, batches.length - 1);
    await scrub(alice, k, batches[k - 1]!.batch!.seq);
    const past = await download(alice);
    expect(past.pixels).toEqual(replay(batches.slice(0, k), background));
    const rpc = await historyApi().exportCanvas({ atSeq: batches[k - 1]!.batch!.seq });
    const decoded = decode(rpc.png);
    expect(past.pixels).toEqual(Array.from({ length: W * H }, (_, i) => (decoded.data[i * decoded.channels]! << 16) | (decoded.data[i * decoded.channels + 1]! << 8) | decoded.data[i * decoded.channels + 2]!));
  });
});
