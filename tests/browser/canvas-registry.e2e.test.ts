import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { ARTIFACTS, CANVAS, browserSuite, openLivePage, screenColorAt, storedTileColor } from "./browser-support.js";

const RED = 0xe63946;

/** The canvases the running system lists on its public /api, as name -> [width, height, seq]. */
async function listCanvases(baseUrl: string): Promise<Record<string, [number, number, number]>> {
  const res = await fetch(`${baseUrl}api/pixel.v1.CanvasService/ListCanvases`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const body = (await res.json()) as { canvases: { name: string; width: number; height: number; seq?: string }[] };
  return Object.fromEntries(body.canvases.map((c) => [c.name, [c.width, c.height, Number(c.seq ?? 0)]]));
}

describe("the canvas registry in the web app (npm start's canvases)", () => {
  // No CANVAS_IDS: the local entry's own seeds, as `npm start` runs it.
  const suite = browserSuite();
  const { system, contexts } = suite;

  it("opens the big demo canvas at /c/big with a shared view, paints where clicked into that canvas only, and links it from the picker", async () => {
    const listed = await listCanvases(system.url);
    expect(listed.default?.slice(0, 2)).toEqual([50, 50]);
    expect(listed.big?.slice(0, 2)).toEqual([2048, 2048]);

    const target = { x: 1500, y: 700 };
    const page = await openLivePage(suite.browser, `${system.url}c/big?x=${target.x + 0.5}&y=${target.y + 0.5}&zoom=16`, contexts);
    await page.click('[data-testid="swatch-e63946"]');
    const box = await page.locator(CANVAS).boundingBox();
    if (!box) throw new Error("no canvas box");
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await page.mouse.click(centre.x, centre.y);
    await waitFor("the pixel is stored in the big canvas", async () => (await storedTileColor(system.url, "big", target)) === RED, 10_000);
    await waitFor("the clicked spot turns red on screen", async () => (await screenColorAt(page, centre)) === RED, 10_000);
    expect(await storedTileColor(system.url, "big", { x: target.x + 1, y: target.y })).not.toBe(RED);
    const after = await listCanvases(system.url);
    expect([after.big?.[2], after.default?.[2]]).toEqual([1, 0]);
    expect(await page.locator('nav[aria-label="Canvases"] a[href="/c/big"]').getAttribute("aria-current")).toBe("page");
    await page.screenshot({ path: join(ARTIFACTS, "canvas-registry-big.png") });

    // The link shared from that page opens the same canvas at the same view.
    const other = await openLivePage(suite.browser, page.url(), contexts);
    expect(new URL(other.url()).pathname).toBe("/c/big");
    await waitFor("the shared view shows the pixel at the centre", async () => (await screenColorAt(other, centre)) === RED, 10_000);
  });

  it("serves the app for /c/<name> of a canvas that does not exist, where the gateway refuses it NOT_FOUND (shown as a notice) and the tile route answers 404", async () => {
    const res = await fetch(`${system.url}c/nope`);
    expect([res.status, (await res.text()).includes('<div id="app">')]).toEqual([200, true]);
    expect((await fetch(`${system.url}api/tiles/nope/0/0/0.png`)).status).toBe(404);
    const context = await suite.browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${system.url}c/nope`);
    await page.getByText("This canvas does not exist").first().waitFor({ timeout: 15_000 });
  });
});
