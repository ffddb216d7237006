import { describe, expect, it } from "vitest";
import { EncodedTileCache } from "./encoded-tile-cache.js";

describe("EncodedTileCache", () => {
  it("evicts the least recently used tiles once their bytes pass the bound", () => {
    const cache = new EncodedTileCache(100);
    cache.set("a", new Uint8Array(40));
    cache.set("b", new Uint8Array(40));
    // Reading "a" makes "b" the least recently used.
    expect(cache.get("a")?.length).toBe(40);
    cache.set("c", new Uint8Array(40));
    expect([cache.get("a")?.length, cache.get("b"), cache.get("c")?.length]).toEqual([40, undefined, 40]);
    expect([cache.size, cache.bytes]).toEqual([2, 80]);
  });

  it("keeps nothing larger than the bound and counts a replaced entry once", () => {
    const cache = new EncodedTileCache(100);
    cache.set("a", new Uint8Array(30));
    cache.set("a", new Uint8Array(50));
    cache.set("huge", new Uint8Array(101));
    expect([cache.size, cache.bytes, cache.get("huge")]).toEqual([1, 50, undefined]);
  });
});
