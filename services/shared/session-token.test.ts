import { describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { generateSessionKey, newUserId, parseSessionKeys, SessionTokens } from "./session-token.js";

const DAY = 86_400;
const ring = (...keys: string[]) => new SessionTokens(parseSessionKeys(keys.join(",")), 30 * DAY);

describe("SessionTokens", () => {
  const current = generateSessionKey("k2");
  const previous = generateSessionKey("k1");

  it("signs a session that verifies to the same user id and expiry", async () => {
    const tokens = ring(current);
    const issued = await tokens.issue();
    expect(issued.userId).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
    expect(await tokens.verify(issued.token)).toEqual({ userId: issued.userId, expiresAt: issued.expiresAt });
  });

  it("names the signing key in the kid header", async () => {
    const { token } = await ring(current, previous).issue();
    expect(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString())).toMatchObject({ alg: "HS256", kid: "k2" });
  });

  it("refuses an expired token", async () => {
    const tokens = ring(current);
    const issued = await tokens.issue(undefined, 1_000_000);
    expect(await tokens.verify(issued.token, 1_000_000 + 30 * DAY - 1)).toBeDefined();
    expect(await tokens.verify(issued.token, 1_000_000 + 30 * DAY + 1)).toBeUndefined();
  });

  it("refuses a token signed with another secret under the same kid", async () => {
    const forged = await ring(generateSessionKey("k2")).issue();
    expect(await ring(current).verify(forged.token)).toBeUndefined();
  });

  it("rotation: a token signed by the previous key still verifies once a new key is prepended", async () => {
    const old = await ring(previous).issue();
    const rotated = ring(current, previous);
    expect((await rotated.verify(old.token))?.userId).toBe(old.userId);
    expect(JSON.parse(Buffer.from((await rotated.issue()).token.split(".")[0]!, "base64url").toString()).kid).toBe("k2");
  });

  it("refuses a token whose kid is no longer in the ring (the old key was dropped)", async () => {
    const old = await ring(previous).issue();
    expect(await ring(current).verify(old.token)).toBeUndefined();
  });

  it("refuses tampered claims, an unsigned (alg none) token and garbage", async () => {
    const tokens = ring(current);
    const { token } = await tokens.issue();
    const [header, , signature] = token.split(".");
    const payload = Buffer.from(JSON.stringify({ sub: newUserId(), iss: "pixel-playground", aud: "pixel-playground", iat: 1, exp: 4_000_000_000 })).toString("base64url");
    expect(await tokens.verify(`${header}.${payload}.${signature}`)).toBeUndefined();
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: "k2" })).toString("base64url")}.${payload}.`;
    expect(await tokens.verify(none)).toBeUndefined();
    expect(await tokens.verify("not-a-token")).toBeUndefined();
  });

  it("refuses a correctly signed JWT minted for another purpose (no issuer and audience of ours)", async () => {
    const [key] = parseSessionKeys(current);
    const other = await new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: "k2" }).setSubject(newUserId()).setIssuedAt().setExpirationTime("1h").sign(key!.secret);
    expect(await ring(current).verify(other)).toBeUndefined();
  });
});

describe("parseSessionKeys", () => {
  it("reads kid:base64secret entries in order, the first being the signing key", () => {
    expect(parseSessionKeys(` ${generateSessionKey("a")} , ${generateSessionKey("b")}`).map((k) => k.kid)).toEqual(["a", "b"]);
  });

  it.each([
    ["an empty list", "", /no key/],
    ["an entry without a kid", Buffer.alloc(32).toString("base64"), /kid:base64secret/],
    ["a secret shorter than 32 bytes", `a:${Buffer.alloc(16).toString("base64")}`, /at least 32/],
    ["a repeated kid", `${generateSessionKey("a")},${generateSessionKey("a")}`, /distinct/],
  ])("refuses %s", (_name, text, message) => {
    expect(() => parseSessionKeys(text)).toThrow(message);
  });
});
