import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { withoutBannedRuns } from "./ban-check.js";
import { MemoryBanList } from "./ban-list.js";

const run = (userId: string, pixelCount: number) => ({ pixelCount, userKey: userId, ipKey: "", author: { userId, name: userId } });
const px = (x: number) => ({ x, y: 0, color: x });

describe("bans", () => {
  it("takes a banned user's runs and pixels out of a batch, keeping the others in order", async () => {
    const bans = new MemoryBanList();
    await bans.ban({ userId: "b", reason: "spam", bannedBy: "mod", createdMs: Date.now() });
    expect(withoutBannedRuns([px(1), px(2)], [run("a", 2)], (u) => bans.banOf(u))).toBeUndefined();
    const kept = withoutBannedRuns([px(1), px(2), px(3), px(4)], [run("a", 1), run("b", 2), run("c", 1)], (u) => bans.banOf(u))!;
    expect(kept.pixels).toEqual([px(1), px(4)]);
    expect(kept.runs.map((r) => r.userKey)).toEqual(["a", "c"]);
    expect(kept.bans.map((b) => b?.reason)).toEqual([undefined, "spam", undefined]);
  });

  it("refuses a batch of banned users only with PermissionDenied naming the reason, and never bans an anonymous run", async () => {
    const bans = new MemoryBanList();
    await bans.ban({ userId: "b", reason: "spam", bannedBy: "mod", createdMs: Date.now() });
    let error: ConnectError | undefined;
    try {
      withoutBannedRuns([px(1)], [run("b", 1)], (u) => bans.banOf(u));
    } catch (err) {
      error = ConnectError.from(err);
    }
    expect([error?.code, error?.rawMessage]).toEqual([Code.PermissionDenied, "user b is banned from placing pixels: spam"]);
    expect(withoutBannedRuns([px(1)], [{ pixelCount: 1, userKey: "anon:1.2.3.4", ipKey: "1.2.3.4" }], (u) => bans.banOf(u))).toBeUndefined();
  });

  it("lists bans in force newest first, forgets expired ones, and says whether an unban lifted one", async () => {
    const bans = new MemoryBanList();
    const now = Date.now();
    await bans.ban({ userId: "old", reason: "", bannedBy: "mod", createdMs: now - 10 });
    await bans.ban({ userId: "new", reason: "", bannedBy: "mod", createdMs: now });
    await bans.ban({ userId: "gone", reason: "", bannedBy: "mod", createdMs: now, expiresMs: now - 1 });
    expect((await bans.list()).map((b) => b.userId)).toEqual(["new", "old"]);
    expect(bans.banOf("gone")).toBeUndefined();
    expect([await bans.unban("old"), await bans.unban("old")]).toEqual([true, false]);
  });
});
