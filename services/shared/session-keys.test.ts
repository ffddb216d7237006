import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "./config.js";
import { loadSecurityConfig } from "./security-config.js";
import { LOCAL_KEY_FILE, loadSessionKeys } from "./session-keys.js";
import { generateSessionKey } from "./session-token.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "pp-keys-"));
  dirs.push(d);
  return d;
};

describe("loadSessionKeys", () => {
  it("embedded without SESSION_KEYS: generates a key once under DATA_DIR (owner-only) and reuses it, so sessions survive a restart", async () => {
    const dataDir = tempDir();
    const security = loadSecurityConfig({});
    const first = loadSessionKeys({ dataDir, redis: undefined }, security, "embedded");
    const { token } = await first.issue();
    const restarted = loadSessionKeys({ dataDir, redis: undefined }, security, "embedded");
    expect(await restarted.verify(token)).toBeDefined();
    expect(readFileSync(join(dataDir, LOCAL_KEY_FILE), "utf8")).toMatch(/^local:/);
    expect(statSync(join(dataDir, LOCAL_KEY_FILE)).mode & 0o077).toBe(0);
  });

  it("refuses to start a process on Redis without SESSION_KEYS, naming the variable", () => {
    const security = loadSecurityConfig({});
    expect(() => loadSessionKeys({ dataDir: tempDir(), redis: { mode: "single", url: "redis://x" } }, security, "embedded")).toThrow(ConfigError);
    expect(() => loadSessionKeys({ dataDir: tempDir(), redis: undefined }, security, "service")).toThrow(/SESSION_KEYS must be set/);
  });

  it("uses SESSION_KEYS when set, and reports a malformed value as a ConfigError", async () => {
    const keys = `${generateSessionKey("new")},${generateSessionKey("old")}`;
    const tokens = loadSessionKeys({ dataDir: tempDir(), redis: { mode: "single", url: "redis://x" } }, loadSecurityConfig({ SESSION_KEYS: keys }), "service");
    expect(JSON.parse(Buffer.from((await tokens.issue()).token.split(".")[0]!, "base64url").toString()).kid).toBe("new");
    expect(() => loadSessionKeys({ dataDir: tempDir(), redis: undefined }, loadSecurityConfig({ SESSION_KEYS: "k:short" }), "service")).toThrow(/SESSION_KEYS: .*at least 32/);
  });

  it("with SESSIONS=optional and no keys, runs with a key of its own", async () => {
    const tokens = loadSessionKeys({ dataDir: tempDir(), redis: { mode: "single", url: "redis://x" } }, loadSecurityConfig({ SESSIONS: "optional" }), "service");
    expect(await tokens.verify((await tokens.issue()).token)).toBeDefined();
  });
});

describe("loadSecurityConfig", () => {
  const digest = "a".repeat(64);

  it("defaults to required sessions, 30-day sessions, 30 new sessions and 50 connections per address, no admin", () => {
    const s = loadSecurityConfig({});
    expect([s.sessions, s.sessionMaxAgeSeconds, s.sessionsPerIpPerMinute, s.maxConnectionsPerIp, s.adminCredentials.length, s.adminOverPublicApi, s.trustProxy]).toEqual(["required", 30 * 86_400, 30, 50, 0, false, false]);
  });

  it("reads named admin credentials, with the deprecated ADMIN_TOKEN as the one named admin", () => {
    const s = loadSecurityConfig({ ADMIN_TOKENS: `alice:${digest}, ci-reset:${"b".repeat(64)}`, ADMIN_TOKEN: "legacy" });
    expect(s.adminCredentials.map((c) => c.name)).toEqual(["alice", "ci-reset", "admin"]);
  });

  it.each([
    ["a plain token instead of a digest", { ADMIN_TOKENS: "alice:s3cret" }, /SHA-256/],
    ["a repeated name", { ADMIN_TOKENS: `a:${digest},a:${digest}` }, /twice/],
    ["an unknown SESSIONS mode", { SESSIONS: "maybe" }, /required or optional/],
    ["a non-boolean flag", { ADMIN_OVER_PUBLIC_API: "yes" }, /true or false/],
  ])("refuses %s", (_name, env, message) => {
    expect(() => loadSecurityConfig(env)).toThrow(message);
  });
});
