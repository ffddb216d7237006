import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { fetchSession } from "../../tools/process/session.js";
import { ARTIFACTS, CANVAS, canvasPointAt, drawnView, browserSuite, openLivePage, pixelCentre, screenColorAt, storedColor, waitForPixel } from "./browser-support.js";

const SIDE = 512;
const RED = 0xe63946;

/** The view parameters in a page's address. */
function viewParams(url: string): { x: string | null; y: string | null; zoom: string | null } {
  const q = new URL(url).searchParams;
  return { x: q.get("x"), y: q.get("y"), zoom: q.get("zoom") };
}

describe("the web app on a 512×512 canvas: zoom, pan, placing at any zoom, and the view in the URL", () => {
  const suite = browserSuite({ CANVAS_WIDTH: String(SIDE), CANVAS_HEIGHT: String(SIDE) });
  const { system, contexts } = suite;

  it("zooms to the cursor with the wheel, places a pixel by click at that zoom, pans by dragging in hand mode, and keeps the view in the URL", async () => {
    const page = await openLivePage(suite.browser, system.url, contexts);
    expect(await page.locator(CANVAS).getAttribute("data-width")).toBe(String(SIDE));
    const fitted = await drawnView(page);
    expect(viewParams(page.url())).toEqual({ x: null, y: null, zoom: null });

    // Wheel up over a point: the zoom grows and the canvas point under the cursor stays under it.
    const cursor = { x: fitted.left + 300, y: fitted.top + 250 };
    const before = await canvasPointAt(page, cursor);
    await page.mouse.move(cursor.x, cursor.y);
    await page.mouse.wheel(0, -1000);
    await waitFor("the wheel zoomed in", async () => (await drawnView(page)).zoom > fitted.zoom * 6);
    const zoomed = await drawnView(page);
    const after = await canvasPointAt(page, cursor);
    expect(Math.abs(after.x - before.x) * zoomed.zoom).toBeLessThanOrEqual(1);
    expect(Math.abs(after.y - before.y) * zoomed.zoom).toBeLessThanOrEqual(1);

    // Click the middle of one canvas pixel near the cursor: exactly that pixel is painted.
    await page.click('[data-testid="swatch-e63946"]');
    const target = { x: Math.floor(before.x) + 3, y: Math.floor(before.y) - 2 };
    const at = await pixelCentre(page, target);
    await page.mouse.click(at.x, at.y);
    // The screen canvas shows it where it was clicked...
    await waitFor("the clicked spot turns red on screen", async () => (await screenColorAt(page, at)) === RED, 10_000);
    // ...and the store has it at that canvas coordinate, not at a neighbour.
    await waitFor("the pixel is stored", async () => (await storedColor(system.url, target)) === RED);
    for (const n of [
      { x: target.x - 1, y: target.y },
      { x: target.x + 1, y: target.y },
      { x: target.x, y: target.y - 1 },
      { x: target.x, y: target.y + 1 },
    ]) {
      expect(await storedColor(system.url, n)).not.toBe(RED);
    }
    await page.screenshot({ path: join(ARTIFACTS, "big-canvas-zoomed.png") });

    // Hand mode: a drag moves the view by the drag and paints nothing.
    await page.click('[data-testid="mode-hand"]');
    const seq = await page.locator(CANVAS).getAttribute("data-seq");
    const start = { x: zoomed.left + 500, y: zoomed.top + 400 };
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(start.x - 150, start.y - 100, { steps: 5 });
    await page.mouse.up();
    await waitFor("the drag panned", async () => (await drawnView(page)).originX !== zoomed.originX);
    const panned = await drawnView(page);
    expect(panned.zoom).toBe(zoomed.zoom);
    expect(Math.abs(panned.originX - (zoomed.originX - 150))).toBeLessThanOrEqual(1);
    expect(Math.abs(panned.originY - (zoomed.originY - 100))).toBeLessThanOrEqual(1);
    const moved = await pixelCentre(page, target);
    expect(Math.abs(moved.x - (at.x - 150))).toBeLessThanOrEqual(1);
    expect(await screenColorAt(page, moved)).toBe(RED);
    expect(await page.locator(CANVAS).getAttribute("data-seq")).toBe(seq);

    // The URL follows the view (written a moment after it settles) and opens the same view elsewhere.
    const box = await page.locator(CANVAS).boundingBox();
    if (!box) throw new Error("no canvas box");
    await waitFor("the URL holds the panned view", async () => {
      const q = viewParams(page.url());
      const [x, y, zoom] = [Number(q.x), Number(q.y), Number(q.zoom)];
      // The URL rounds x and y to a hundredth of a canvas pixel, and the origin is rounded to a screen pixel.
      return zoom > 0 && Math.abs(box.width / 2 - x * zoom - panned.originX) <= 1.5 && Math.abs(box.height / 2 - y * zoom - panned.originY) <= 1.5;
    });
    const shared = page.url();
    const other = await openLivePage(suite.browser, shared, contexts);
    const otherView = await drawnView(other);
    expect(Math.abs(otherView.zoom - panned.zoom) / panned.zoom).toBeLessThan(0.001);
    const there = await pixelCentre(other, target);
    // Within the rounding of the URL's numbers and of the origin to a screen pixel.
    expect(Math.abs(there.x - moved.x)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(there.y - moved.y)).toBeLessThanOrEqual(1.5);
    // Its tiles are read once it is live.
    await waitFor("the shared view shows the pixel", async () => (await screenColorAt(other, there)) === RED, 10_000);
    await page.screenshot({ path: join(ARTIFACTS, "big-canvas-panned.png") });
  });

  it("opens ?x=&y=&zoom= with that canvas point at the screen centre; space-drag pans; + zooms, 0 fits; the minimap moves the view", async () => {
    const dot = { x: 400, y: 100 };
    // Writes on the public /api need a session, as the page's own do.
    const { cookie } = await fetchSession(system.url);
    const stored = await fetch(`${system.url}api/pixel.v1.CanvasService/SetPixels`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ pixels: [{ ...dot, color: RED }] }),
    });
    expect(stored.status).toBe(200);
    const page = await openLivePage(suite.browser, `${system.url}?x=${dot.x + 0.5}&y=${dot.y + 0.5}&zoom=16`, contexts);
    const view = await drawnView(page);
    expect(view.zoom).toBe(16);
    const box = await page.locator(CANVAS).boundingBox();
    if (!box) throw new Error("no canvas box");
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await waitFor("the dot shows at the screen centre", async () => (await screenColorAt(page, centre)) === RED, 10_000);
    // One canvas pixel (16 screen pixels) to the left is not the dot.
    expect(await screenColorAt(page, { x: centre.x - 16, y: centre.y })).not.toBe(RED);
    await page.screenshot({ path: join(ARTIFACTS, "big-canvas-from-url.png") });

    // Space held turns a drag in brush mode into a pan that paints nothing.
    const seq = await page.locator(CANVAS).getAttribute("data-seq");
    await page.keyboard.down("Space");
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down();
    await page.mouse.move(centre.x + 64, centre.y + 32, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up("Space");
    await waitFor("space-drag panned", async () => (await drawnView(page)).originX === view.originX + 64);
    expect((await drawnView(page)).originY).toBe(view.originY + 32);
    expect(await page.locator(CANVAS).getAttribute("data-mode")).toBe("brush");
    expect(await page.locator(CANVAS).getAttribute("data-seq")).toBe(seq);
    expect(await screenColorAt(page, { x: centre.x + 64, y: centre.y + 32 })).toBe(RED);

    // The keyboard: + zooms in around the centre, 0 fits the whole canvas and clears the URL.
    await page.keyboard.press("+");
    await waitFor("+ zoomed in", async () => (await drawnView(page)).zoom === 24);
    await waitForPixel(page, dot, RED, "the dot after zooming with +");
    await page.keyboard.press("0");
    await waitFor("0 fitted the canvas", async () => (await drawnView(page)).zoom < 2);
    await waitFor("the URL dropped the view", async () => viewParams(page.url()).zoom === null);

    // The minimap: pressing its centre centres the view on the canvas centre.
    await page.keyboard.press("+");
    await page.keyboard.press("+");
    await page.keyboard.press("+");
    const minimap = await page.locator('[data-testid="minimap"]').boundingBox();
    if (!minimap) throw new Error("no minimap");
    await page.mouse.click(minimap.x + minimap.width / 4, minimap.y + minimap.height / 4);
    await waitFor("the minimap moved the view", async () => {
      const c = await canvasPointAt(page, centre);
      return Math.abs(c.x - SIDE / 4) < 2 && Math.abs(c.y - SIDE / 4) < 2;
    });
    await page.screenshot({ path: join(ARTIFACTS, "big-canvas-minimap.png") });
  });

  it("zooms with a two-finger pinch on a touch screen, spreading the fingers threefold zooms threefold; the pinch paints nothing, a tap paints its pixel", async () => {
    const page = await openLivePage(suite.browser, system.url, contexts, { hasTouch: true });
    const before = await drawnView(page);
    const mid = { x: before.left + 350, y: before.top + 300 };
    const under = await canvasPointAt(page, mid);
    // Raw touch events through the DevTools protocol: Playwright's own touch API has one finger.
    const cdp = await page.context().newCDPSession(page);
    const fingers = (spread: number) => [
      { id: 0, x: mid.x - spread, y: mid.y },
      { id: 1, x: mid.x + spread, y: mid.y },
    ];
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: fingers(50) });
    for (let spread = 60; spread <= 150; spread += 10) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: fingers(spread) });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await waitFor("the pinch zoomed", async () => Math.abs((await drawnView(page)).zoom - before.zoom * 3) < 1e-9);
    // The canvas point between the fingers stayed between them.
    const after = await canvasPointAt(page, mid);
    const zoom = (await drawnView(page)).zoom;
    expect(Math.abs(after.x - under.x) * zoom).toBeLessThanOrEqual(1);
    expect(Math.abs(after.y - under.y) * zoom).toBeLessThanOrEqual(1);

    // A tap paints its pixel. Writes from one page are stored in order, so once the tap's pixel is
    // stored, a stray pixel from the pinch's first finger would be stored too: there is none.
    const firstFinger = { x: Math.floor(under.x - 50 / before.zoom), y: Math.floor(under.y) };
    const tapped = { x: Math.floor(after.x), y: Math.floor(after.y) + 10 };
    const tapAt = await pixelCentre(page, tapped);
    await page.touchscreen.tap(tapAt.x, tapAt.y);
    await waitFor("the tap is stored", async () => (await storedColor(system.url, tapped)) === RED);
    expect(await storedColor(system.url, firstFinger)).not.toBe(RED);
    expect(await storedColor(system.url, { x: Math.floor(under.x), y: Math.floor(under.y) })).not.toBe(RED);
  });
});
