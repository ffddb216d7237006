import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { waitFor } from "../../tools/process/free-port.js";
import { ARTIFACTS, CANVAS, browserSuite, openLivePage, screenColorAt, storedTileColor } from "./browser-support.js";

const RED = 0xe63946;
const SIDE = 8192;
const ADMIN_TOKEN = "huge-canvas-admin";
/** A pixel at the far corner from the origin, the one the address `/c/huge?x=8190.5&y=8190.5&zoom=16` centres. */
const CORNER = { x: SIDE - 2, y: SIDE - 2 };

describe("an 8192×8192 canvas created at run time", () => {
  const suite = browserSuite({ ADMIN_TOKENS: `ops:${createHash("sha256").update(ADMIN_TOKEN).digest("hex")}` });
  const { system, contexts } = suite;

  it("is created with CreateCanvas on the internal port, joined in Chromium at its far corner, and paints there: the tile and the screen show the colour", async () => {
    // The admin RPC over the internal h2c port, as an operator's connect-node client calls it.
    const admin = createClient(CanvasService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${system.env.CANVAS_GRPC_PORT}` }));
    const created = await admin.createCanvas({ name: "huge", width: SIDE, height: SIDE }, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(created.created).toBe(true);

    const page = await openLivePage(suite.browser, `${system.url}c/huge?x=${CORNER.x + 0.5}&y=${CORNER.y + 0.5}&zoom=16`, contexts);
    expect(await page.locator(CANVAS).getAttribute("data-width")).toBe(String(SIDE));
    await page.click('[data-testid="swatch-e63946"]');
    const box = (await page.locator(CANVAS).boundingBox())!;
    // The view is centred on the corner pixel's middle, so the screen's centre is that pixel.
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    expect(await storedTileColor(system.url, "huge", CORNER)).not.toBe(RED);
    await page.mouse.click(centre.x, centre.y);
    await waitFor("the corner pixel is stored in tile 31:31", async () => (await storedTileColor(system.url, "huge", CORNER)) === RED, 10_000);
    await waitFor("the corner pixel is red on screen", async () => (await screenColorAt(page, centre)) === RED, 10_000);
    await page.screenshot({ path: join(ARTIFACTS, "huge-canvas-corner.png") });
  });
});
