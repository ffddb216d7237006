import { describe, expect, it } from "vitest";
import { loadConfig } from "../shared/config.js";
import { historyDatabase } from "./history-config.js";

describe("historyDatabase", () => {
  it("uses HISTORY_DATABASE_URL, else PGlite under DATA_DIR/history on the embedded store, else is off with Redis", () => {
    const embedded = loadConfig({ DATA_DIR: "/tmp/d" });
    const redis = loadConfig({ REDIS_URL: "redis://127.0.0.1:1", SESSION_KEYS: `k1:${"a".repeat(44)}` });
    expect(historyDatabase(embedded, {})).toEqual({ kind: "pglite", dataDir: "/tmp/d/history" });
    expect(historyDatabase(redis, { HISTORY_DATABASE_URL: "postgres://u@h/db" })).toEqual({ kind: "postgres", url: "postgres://u@h/db" });
    expect(historyDatabase(redis, {}).kind).toBe("off");
    expect(() => historyDatabase(embedded, { HISTORY_DATABASE_URL: "mysql://x" })).toThrow(RangeError);
  });
});
