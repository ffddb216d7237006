import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_PRESENCE_NAMES, type PresenceStore } from "../presence.js";

/** How the contract reaches one PresenceStore implementation. */
export interface PresenceStoreHarness {
  /** Empties the shared storage, run before each case. */
  clear(): Promise<void>;
  /** The store of one gateway instance, once it can answer; stores opened within a case share their entries. */
  open(instanceId: string, ttlMs: number): Promise<PresenceStore>;
}

/** Long enough that no entry expires during a case that does not wait for it. */
const LONG_TTL_MS = 60_000;
/** Short enough that a case can wait for an entry to expire. */
const SHORT_TTL_MS = 150;

/**
 * The rules every PresenceStore keeps (presence.ts), as one suite that each implementation's
 * test file runs with its own harness, so the memory and the Redis store pass the same cases.
 */
export function describePresenceStoreContract(name: string, harness: PresenceStoreHarness): void {
  describe(`${name} keeps the PresenceStore contract`, () => {
    const opened: PresenceStore[] = [];
    const open = async (instanceId: string, ttlMs = LONG_TTL_MS) => {
      const store = await harness.open(instanceId, ttlMs);
      opened.push(store);
      return store;
    };
    beforeEach(() => harness.clear());
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it("answers a lone gateway's own view, names sorted", async () => {
      expect(await (await open("gw-a")).sync("c", { online: 3, names: ["cy", "ann", "bob"] })).toEqual({ online: 3, names: ["ann", "bob", "cy"] });
    });

    it("merges the counts and names of every live gateway, per canvas", async () => {
      const a = await open("gw-a");
      const b = await open("gw-b");
      await a.sync("c", { online: 2, names: ["zed"] });
      await a.sync("other", { online: 5, names: ["x"] });
      expect(await b.sync("c", { online: 1, names: ["amy"] })).toEqual({ online: 3, names: ["amy", "zed"] });
    });

    it("replaces a gateway's previous entry on each sync", async () => {
      const a = await open("gw-a");
      await a.sync("c", { online: 4, names: ["old"] });
      expect(await a.sync("c", { online: 1, names: ["new"] })).toEqual({ online: 1, names: ["new"] });
    });

    it("drops a gateway's entry once it removed it", async () => {
      const a = await open("gw-a");
      const b = await open("gw-b");
      await a.sync("c", { online: 2, names: ["ann"] });
      await a.remove("c");
      expect(await b.sync("c", { online: 1, names: ["bob"] })).toEqual({ online: 1, names: ["bob"] });
    });

    it("ignores an entry not refreshed within its ttl, as a dead gateway's", async () => {
      const dead = await open("gw-dead", SHORT_TTL_MS);
      const live = await open("gw-live", SHORT_TTL_MS);
      await dead.sync("c", { online: 2, names: ["ghost"] });
      expect(await live.sync("c", { online: 1, names: [] })).toEqual({ online: 3, names: ["ghost"] });
      await new Promise((r) => setTimeout(r, SHORT_TTL_MS + 50));
      expect(await live.sync("c", { online: 1, names: [] })).toEqual({ online: 1, names: [] });
    });

    it(`keeps at most MAX_PRESENCE_NAMES (${MAX_PRESENCE_NAMES}) names, the first in sorted order`, async () => {
      const names = (prefix: string) => Array.from({ length: 80 }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);
      await (await open("gw-a")).sync("c", { online: 80, names: names("b") });
      const merged = await (await open("gw-b")).sync("c", { online: 80, names: names("a") });
      expect(merged.online).toBe(160);
      expect(merged.names).toEqual([...names("a"), ...names("b")].sort().slice(0, MAX_PRESENCE_NAMES));
    });
  });
}
