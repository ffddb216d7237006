import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { linePixels } from "../../web/src/protocol/line-pixels.js";
import { waitFor } from "../../tools/process/free-port.js";
import { ARTIFACTS, CANVAS, browserSuite, openLivePage, pixelCentre, readPixel, STATUS, storedColor, waitForPixel } from "./browser-support.js";

describe("the web app in two Chromium pages against the one-URL local system", () => {
  const suite = browserSuite();
  const { system, contexts } = suite;

  it("a click and a drag in one page appear, pixel for pixel, in the canvas of the other", async () => {
    const painter = await openLivePage(suite.browser, system.url, contexts);
    const viewer = await openLivePage(suite.browser, system.url, contexts);

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
    expect(await readPixel(painter, dot)).toBe(red);
    expect(await readPixel(viewer, { x: 45, y: 45 })).toBe(await readPixel(painter, { x: 45, y: 45 }));
    expect(await readPixel(viewer, { x: 45, y: 45 })).not.toBe(blue);

    // And it is stored, not just broadcast: the API agrees.
    expect(await storedColor(system.url, dot)).toBe(red);

    const presence = viewer.locator('[data-testid="online-count"]');
    await waitFor("both pages counted online", async () => (await presence.textContent()) === "2");
    await painter.screenshot({ path: join(ARTIFACTS, "two-pages-painter.png") });
    await viewer.screenshot({ path: join(ARTIFACTS, "two-pages-viewer.png") });
  });

  it("shows reconnecting… while the server is gone, refuses placements visibly, and recovers when it returns", async () => {
    const page = await openLivePage(suite.browser, system.url, contexts);
    const green = 0x06a77d;
    await page.click('[data-testid="swatch-06a77d"]');
    const before = { x: 20, y: 2 };
    const at = await pixelCentre(page, before);
    await page.mouse.click(at.x, at.y);
    await waitForPixel(page, before, green, "a placement while live");
    // Let the write reach the store before the shutdown.
    await waitFor("the placement is stored", async () => (await storedColor(system.url, before)) === green);

    await system.stop();
    await page.waitForSelector(`${STATUS}[data-state="reconnecting"]`, { timeout: 10_000 });
    expect(await page.locator(STATUS).textContent()).toContain("reconnecting…");
    expect(await page.locator(CANVAS).getAttribute("data-accepting")).toBe("false");

    // Drawing now is refused visibly: a notice says so and nothing is painted.
    const refused = { x: 30, y: 3 };
    const colourBefore = await readPixel(page, refused);
    const r = await pixelCentre(page, refused);
    await page.mouse.click(r.x, r.y);
    const notice = page.locator('[data-testid="notice"]', { hasText: "nothing was placed" });
    await notice.waitFor({ timeout: 5_000 });
    expect(await notice.textContent()).toContain("Not connected (reconnecting…)");
    expect(await readPixel(page, refused)).toBe(colourBefore);
    await page.screenshot({ path: join(ARTIFACTS, "reconnecting.png") });

    await system.start();
    await page.waitForSelector(`${STATUS}[data-state="live"]`, { timeout: 15_000 });
    // The drawing survived the restart, and drawing works again without reloading the page.
    expect(await readPixel(page, before)).toBe(green);
    expect(await readPixel(page, refused)).toBe(colourBefore);
    const again = await pixelCentre(page, refused);
    await page.mouse.click(again.x, again.y);
    await waitForPixel(page, refused, green, "a placement after recovery");
    const viewer = await openLivePage(suite.browser, system.url, contexts);
    await waitForPixel(viewer, refused, green, "the recovered placement reaches a new page");
    await page.screenshot({ path: join(ARTIFACTS, "recovered.png") });
  });

  it("runs under the web tier's Content-Security-Policy without a violation, and the policy is enforced", async () => {
    const context = await suite.browser.newContext({ viewport: { width: 1100, height: 760 } });
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
