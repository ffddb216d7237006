import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { ARTIFACTS, CANVAS, canvasPointAt, drawnView, browserSuite, openLivePage, pixelCentre, screenColorAt, storedColor, waitForPixel } from "./browser-support.js";

const SIDE = 2048;
const RED = 0xe63946;

/** The seq of the watch stream the page last drew at. */
async function drawnSeq(page: Page): Promise<bigint> {
  return BigInt((await page.locator(CANVAS).getAttribute("data-seq")) ?? "0");
}

describe("the web app on a 2048×2048 canvas drawn from tiles", () => {
  const suite = browserSuite({ CANVAS_WIDTH: String(SIDE), CANVAS_HEIGHT: String(SIDE) });
  const { system, contexts } = suite;

  it("zooms in with the wheel and places a pixel; a page zoomed elsewhere shows it only once it pans there, then gets its live batches", async () => {
    const placer = await openLivePage(suite.browser, system.url, contexts);
    const elsewhere = await openLivePage(suite.browser, `${system.url}?x=1800.5&y=1700.5&zoom=16`, contexts);
    expect(await placer.locator(CANVAS).getAttribute("data-width")).toBe(String(SIDE));

    // Fitted, a 2048 canvas is under half a screen pixel per pixel: the page draws level-1 overview
    // tiles (white where nothing is painted), not the grey of level-0 tiles it does not watch.
    const fitted = await drawnView(placer);
    expect(fitted.zoom).toBeLessThan(0.5);
    expect(await placer.locator(CANVAS).getAttribute("data-level")).toBe("1");
    const middle = await pixelCentre(placer, { x: SIDE / 2, y: SIDE / 2 });
    await waitFor("the overview is drawn", async () => (await screenColorAt(placer, middle)) === 0xffffff, 10_000);
    await placer.screenshot({ path: join(ARTIFACTS, "tiled-placer-overview.png") });

    // Wheel up over canvas point ~(300, 300): the placer zooms in there, onto level-0 tiles.
    const cursor = { x: fitted.left + fitted.originX + 300 * fitted.zoom, y: fitted.top + fitted.originY + 300 * fitted.zoom };
    await placer.mouse.move(cursor.x, cursor.y);
    for (let turn = 1; turn <= 3; turn++) {
      const before = (await drawnView(placer)).zoom;
      await placer.mouse.wheel(0, -1000);
      await waitFor(`wheel turn ${turn} zoomed in`, async () => (await drawnView(placer)).zoom > before * 2);
    }
    expect((await drawnView(placer)).zoom).toBeGreaterThanOrEqual(4);
    expect(await placer.locator(CANVAS).getAttribute("data-level")).toBe("0");
    const under = await canvasPointAt(placer, cursor);
    const target = { x: Math.floor(under.x), y: Math.floor(under.y) };
    await placer.click('[data-testid="swatch-e63946"]');
    const at = await pixelCentre(placer, target);
    await placer.mouse.click(at.x, at.y);
    await waitFor("the pixel is stored", async () => (await storedColor(system.url, target)) === RED);
    // The placer watches the pixel's tile: its screen shows it from the stored batch.
    await waitForPixel(placer, target, RED, "the placer's view");
    const placedSeq = await drawnSeq(placer);
    await placer.screenshot({ path: join(ARTIFACTS, "tiled-placer.png") });

    // The other page watches only the tiles around (1800, 1700): the batch never reached it.
    await new Promise((r) => setTimeout(r, 500));
    expect(await drawnSeq(elsewhere)).toBeLessThan(placedSeq);
    await elsewhere.screenshot({ path: join(ARTIFACTS, "tiled-elsewhere-before-pan.png") });

    // It pans there with the minimap: the tile is read and shows the pixel.
    const minimap = await elsewhere.locator('[data-testid="minimap"]').boundingBox();
    if (!minimap) throw new Error("no minimap");
    await elsewhere.mouse.click(minimap.x + (minimap.width * (target.x + 0.5)) / SIDE, minimap.y + (minimap.height * (target.y + 0.5)) / SIDE);
    const box = await elsewhere.locator(CANVAS).boundingBox();
    if (!box) throw new Error("no canvas box");
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await waitFor("the minimap panned near the pixel", async () => {
      const c = await canvasPointAt(elsewhere, centre);
      return Math.abs(c.x - target.x) < 20 && Math.abs(c.y - target.y) < 20;
    });
    await waitForPixel(elsewhere, target, RED, "the panned page");

    // Now it watches that tile: the next pixel there arrives live.
    const next = { x: target.x + 1, y: target.y };
    const nextAt = await pixelCentre(placer, next);
    await placer.mouse.click(nextAt.x, nextAt.y);
    await waitForPixel(elsewhere, next, RED, "a live pixel on the panned page");
    expect(await screenColorAt(elsewhere, await pixelCentre(elsewhere, { x: target.x + 2, y: target.y }))).not.toBe(RED);
    await elsewhere.screenshot({ path: join(ARTIFACTS, "tiled-elsewhere-after-pan.png") });
  });
});
