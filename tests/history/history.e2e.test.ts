import { Code, ConnectError } from "@connectrpc/connect";
import { decode } from "fast-png";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { waitFor } from "../../tools/process/free-port.js";
import { apiClients, person, place, startClusterSystem, startEmbeddedSystem, UNDO_WINDOW_TEST_MS, type HistorySystem, type Person } from "./history-system.js";

// Real processes, built first (npm run build:services): `npm start`'s process (memory store, PGlite
// log, in-process archiver) and a cluster (Redis, PostgreSQL, the archiver process, two canvas
// replicas, two gateways). People are real web-protocol clients (web/src/protocol) with sessions;
// the admin calls HistoryService over /api.

const SIDE = 50;
const WHITE = 0xffffff;

/** A SIDE x SIDE white canvas with `paints` applied in order. */
function expectedCanvas(paints: { x: number; y: number; color: number }[][]): Buffer {
  const out = Buffer.alloc(SIDE * SIDE * 3, 0xff);
  for (const batch of paints) for (const p of batch) out.writeUIntBE(p.color, (p.y * SIDE + p.x) * 3, 3);
  return out;
}

function rect(x0: number, y0: number, w: number, h: number, color: number) {
  return Array.from({ length: w * h }, (_, i) => ({ x: x0 + (i % w), y: y0 + Math.floor(i / w), color }));
}

async function code(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe.each([
  ["embedded", startEmbeddedSystem],
  ["cluster", startClusterSystem],
])("history on the %s system", (_label, start) => {
  let system: HistorySystem;
  let api: ReturnType<typeof apiClients>;
  const people: Person[] = [];
  const admin = () => ({ headers: { authorization: `Bearer ${system.adminToken}` } });
  const join = async (name: string, gateway = 0) => {
    const p = await person(system, name, gateway);
    people.push(p);
    return p;
  };
  const canvasNow = async () => Buffer.from((await api.canvas.getCanvas({ canvasId: "default" })).pixels);
  /** Waits until every client and GetCanvas show exactly `expected`. */
  const converged = async (expected: Buffer) => {
    await waitFor("every client shows the expected canvas", () => people.every((p) => Buffer.from(p.client.canvas.canonicalRgb()).equals(expected)), 15_000, 50);
    expect((await canvasNow()).equals(expected)).toBe(true);
  };

  beforeAll(async () => {
    system = await start();
    api = apiClients(system);
  }, 180_000);
  afterAll(async () => {
    for (const p of people) p.client.close();
    await system?.stop();
  }, 60_000);

  it("moderation: a vandal paints over good work, a good user paints over part of the vandalism, the admin rolls the vandal back; every client and GetCanvas end with exactly the good work", async () => {
    const good = await join("good", 0);
    const vandal = await join("vandal", 1);
    const watcher = await join("watcher", 1);
    const work = rect(0, 0, 5, 5, 0x00aa00);
    const vandalism = rect(0, 0, 7, 3, 0xff0000);
    const repair = rect(5, 0, 2, 2, 0x0000ff);
    expect(await place(good, work)).toBe("acked");
    expect(await place(vandal, vandalism)).toBe("acked");
    expect(await place(good, repair)).toBe("acked");
    await converged(expectedCanvas([work, vandalism, repair]));

    // The log may still be opening (PGlite) or trailing: a rollback plans only from a log that has caught up.
    const { seq } = await api.canvas.getCanvas({ canvasId: "default" });
    await waitFor("log caught up", async () => (await api.history.getPlacements({ canvasId: "default", afterSeq: seq })).archivedSeq >= seq, 60_000, 100);
    const filter = { userId: vandal.session.userId };
    const preview = await api.history.previewRollback({ canvasId: "default", filter }, admin());
    expect([preview.placements, preview.pixelsToRestore, preview.pixelsSkipped]).toEqual([21n, 17n, 4n]);
    expect(preview.topUsers.map((u) => [u.userId, u.placements])).toEqual([[vandal.session.userId, 21n]]);
    const done = await api.history.rollback({ canvasId: "default", filter, reason: "vandalism" }, admin());
    expect([done.pixelsRestored, done.pixelsSkipped, done.seqs.length]).toEqual([17n, 4n, 1]);
    const expected = expectedCanvas([work, repair]);
    await converged(expected);
    expect(watcher.client.state).toBe("live");

    const audit = await api.history.listModerationActions({ canvasId: "default" }, admin());
    const action = audit.actions.find((a) => a.id === done.actionId)!;
    expect([action.admin, action.reason, action.filter?.userId, action.pixelsRestored, action.seqs]).toEqual(["moderator", "vandalism", vandal.session.userId, 17n, done.seqs]);
    // Lookup of a restored pixel: the rollback batch on top, the vandal's placement under it, reverted by it.
    await waitFor("rollback archived", async () => (await api.history.lookupPixel({ canvasId: "default", x: 0, y: 0 })).archivedSeq >= done.seqs[0]!, 10_000, 50);
    const looked = await api.history.lookupPixel({ canvasId: "default", x: 0, y: 0 });
    expect(looked.placements.slice(0, 3).map((p) => [p.userId, p.color, p.previousColor, p.revertedBySeq])).toEqual([
      ["", 0x00aa00, 0xff0000, 0n],
      [vandal.session.userId, 0xff0000, 0x00aa00, done.seqs[0]],
      [good.session.userId, 0x00aa00, WHITE, 0n],
    ]);
    // Admin RPCs need the admin's token.
    expect(await code(api.history.rollback({ canvasId: "default", filter, reason: "" }))).toBe(Code.PermissionDenied);
  }, 120_000);

  it("undo: the own last placement within the window, as a batch every client applies; refused when painted over, after the window and past the per-minute allowance", async () => {
    const [a, b] = [await join("undo-a", 0), await join("undo-b", 1)];
    const cookie = (p: Person) => ({ headers: { cookie: p.session.cookie } });
    const before = await canvasNow();
    const mark = rect(10, 10, 3, 1, 0x123456);
    expect(await place(a, mark)).toBe("acked");
    const undone = await api.history.undoPlacement({ canvasId: "default" }, cookie(a));
    expect([undone.pixelsRestored, undone.pixelsSkipped]).toEqual([3, 0]);
    await converged(before);
    // Already undone: nothing left to undo.
    expect(await code(api.history.undoPlacement({ canvasId: "default" }, cookie(a)))).toBe(Code.FailedPrecondition);
    // Painted over by someone else: refused, and the other's work stays.
    const over = rect(20, 20, 2, 1, 0x010101);
    expect(await place(b, over)).toBe("acked");
    expect(await place(a, rect(20, 20, 2, 1, 0x020202))).toBe("acked");
    expect(await place(b, rect(20, 20, 2, 1, 0x030303))).toBe("acked");
    expect(await code(api.history.undoPlacement({ canvasId: "default" }, cookie(a)))).toBe(Code.FailedPrecondition);
    // Outside the window.
    expect(await place(b, rect(30, 30, 1, 1, 0x040404))).toBe("acked");
    await new Promise((r) => setTimeout(r, UNDO_WINDOW_TEST_MS + 300));
    expect(await code(api.history.undoPlacement({ canvasId: "default" }, cookie(b)))).toBe(Code.FailedPrecondition);
    // Three undos a minute: the fourth is refused. (b has used none: the last was refused.)
    for (let i = 0; i < 3; i++) {
      expect(await place(b, rect(40, 40 + i, 1, 1, 0x050505))).toBe("acked");
      expect(await code(api.history.undoPlacement({ canvasId: "default" }, cookie(b)))).toBe("ok");
    }
    expect(await place(b, rect(45, 45, 1, 1, 0x060606))).toBe("acked");
    expect(await code(api.history.undoPlacement({ canvasId: "default" }, cookie(b)))).toBe(Code.ResourceExhausted);
    expect(await code(api.history.undoPlacement({ canvasId: "default" }))).toBe(Code.Unauthenticated);
    const now = await canvasNow();
    await converged(now);
  }, 90_000);

  it("ban: a banned user's next Place on every gateway is refused at once with BANNED, others still place; unban lets them place again", async () => {
    const x0 = await join("banned", 0);
    // The same person on the other gateway, with the same session.
    const x0b = await person(system, "banned-b", 1, x0.session);
    people.push(x0b);
    const other = await join("other", 1);
    const banned = await api.history.banUser({ userId: x0.session.userId, reason: "spam" }, admin());
    expect(banned.ban?.bannedBy).toBe("moderator");
    expect(await place(x0, [{ x: 1, y: 49, color: 0x111111 }])).toBe(ErrorCode.BANNED);
    expect(await place(x0b, [{ x: 2, y: 49, color: 0x111111 }])).toBe(ErrorCode.BANNED);
    expect(await place(other, [{ x: 3, y: 49, color: 0x222222 }])).toBe("acked");
    expect((await api.history.listBans({}, admin())).bans.map((b) => [b.userId, b.reason])).toEqual([[x0.session.userId, "spam"]]);
    const lifted = await api.history.unbanUser({ userId: x0.session.userId, reason: "appeal" }, admin());
    expect(lifted.wasBanned).toBe(true);
    expect(await place(x0, [{ x: 1, y: 49, color: 0x111111 }])).toBe("acked");
    const kinds = (await api.history.listModerationActions({}, admin())).actions.map((a) => [a.kind, a.targetUserId]);
    expect(kinds.slice(0, 2)).toEqual([[3, x0.session.userId], [2, x0.session.userId]]);
  }, 60_000);

  it("time travel: GetCanvas at seq N equals the replay of batches 1..N from GetPlacements, and ExportCanvas PNGs decode to GetCanvas's bytes (whole and region, now and at a past seq)", async () => {
    const head = await api.canvas.getCanvas({ canvasId: "default" });
    await waitFor("log caught up", async () => (await api.history.getPlacements({ canvasId: "default", afterSeq: head.seq })).archivedSeq >= head.seq, 10_000, 50);
    const page = await api.history.getPlacements({ canvasId: "default", afterSeq: 0n, maxPixels: 1_000_000 });
    expect(page.batches.map((b) => b.batch!.seq)).toEqual(Array.from({ length: Number(head.seq) }, (_, i) => BigInt(i + 1)));
    const replay = Buffer.alloc(SIDE * SIDE * 3, 0xff);
    for (const archived of page.batches) {
      for (const p of archived.batch!.pixels) replay.writeUIntBE(p.color, (p.y * SIDE + p.x) * 3, 3);
      const n = archived.batch!.seq;
      if (n % 3n === 0n || n === head.seq) {
        const past = await api.canvas.getCanvas({ canvasId: "default", atSeq: n });
        expect([past.seq, Buffer.from(past.pixels).equals(replay)]).toEqual([n, true]);
      }
    }
    const mid = head.seq / 2n;
    for (const atSeq of [undefined, mid]) {
      const whole = await api.history.exportCanvas({ canvasId: "default", atSeq });
      const png = decode(whole.png);
      const reference = Buffer.from((await api.canvas.getCanvas({ canvasId: "default", atSeq: atSeq ?? head.seq })).pixels);
      expect([png.width, png.height, png.channels, Buffer.from(png.data).equals(reference)]).toEqual([SIDE, SIDE, 3, true]);
      const region = decode((await api.history.exportCanvas({ canvasId: "default", atSeq, rect: { x: 3, y: 4, width: 10, height: 7 } })).png);
      const cropped = Buffer.concat(Array.from({ length: 7 }, (_, r) => reference.subarray(((4 + r) * SIDE + 3) * 3, ((4 + r) * SIDE + 13) * 3)));
      expect(Buffer.from(region.data).equals(cropped)).toBe(true);
    }
    const http = await fetch(`${system.apiUrl}/export/default.png?seq=${mid}&x=3&y=4&w=10&h=7`);
    expect([http.status, http.headers.get("content-type"), http.headers.get("content-disposition")]).toEqual([200, "image/png", `attachment; filename="default-${head.epoch}-${mid}.png"`]);
    const viaHttp = await api.history.exportCanvas({ canvasId: "default", atSeq: mid, rect: { x: 3, y: 4, width: 10, height: 7 } });
    expect(Buffer.from(decode(new Uint8Array(await http.arrayBuffer())).data).equals(Buffer.from(decode(viaHttp.png).data))).toBe(true);
    expect(await code(api.canvas.getCanvas({ canvasId: "default", atSeq: head.seq + 1000n }))).toBe(Code.OutOfRange);
  }, 60_000);
});
