import { randomBytes } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

/** Who signed a token; also its audience, so a JWT minted for something else with the same secret is refused. */
const ISSUER = "pixel-playground";

/** The only algorithm accepted: a `none` or asymmetric token can never pass for one of ours. */
const ALGORITHM = "HS256";

/** Shortest secret accepted: HS256 wants at least its 256-bit output. */
export const MIN_SECRET_BYTES = 32;

/** Key ids: short, safe in a header and an environment variable. */
const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** User ids this issuer mints: `u_` and 16 random bytes, base64url. */
const USER_ID_PATTERN = /^u_[A-Za-z0-9_-]{22}$/;

/** One signing secret and the id tokens name it by. */
export interface SessionKey {
  kid: string;
  secret: Uint8Array;
}

/** A verified session: the stable user id and when it stops being valid. */
export interface Session {
  userId: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** A freshly signed session, with the token that carries it. */
export interface IssuedSession extends Session {
  token: string;
}

/**
 * Parses SESSION_KEYS: comma-separated `kid:base64secret` entries. The first signs, all verify, so
 * rotating is: prepend a new key, and drop the old one once every token it signed has expired.
 */
export function parseSessionKeys(text: string): SessionKey[] {
  const keys = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const colon = entry.indexOf(":");
      const kid = colon < 0 ? "" : entry.slice(0, colon);
      if (!KID_PATTERN.test(kid)) throw new Error(`entry ${i + 1} must be kid:base64secret with a kid matching ${KID_PATTERN}`);
      const secret = Buffer.from(entry.slice(colon + 1), "base64");
      if (secret.length < MIN_SECRET_BYTES) throw new Error(`key "${kid}" has ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed`);
      return { kid, secret: new Uint8Array(secret) };
    });
  if (keys.length === 0) throw new Error("no key");
  const kids = new Set(keys.map((k) => k.kid));
  if (kids.size !== keys.length) throw new Error("key ids must be distinct");
  return keys;
}

/** A new random key, in the `kid:base64secret` form SESSION_KEYS takes. */
export function generateSessionKey(kid: string = `k${Date.now().toString(36)}`): string {
  return `${kid}:${randomBytes(MIN_SECRET_BYTES).toString("base64")}`;
}

/** A new, unguessable user id. The only place `sub` is minted (an OAuth callback would pass the account id instead). */
export function newUserId(): string {
  return `u_${randomBytes(16).toString("base64url")}`;
}

/**
 * Signs and verifies session tokens: HS256 JWTs with `sub` (the user id), `iat`, `exp`, `iss`,
 * `aud` and a `kid` header naming the key of the ring that signed it.
 */
export class SessionTokens {
  private readonly byKid: Map<string, Uint8Array>;

  constructor(
    private readonly keys: readonly SessionKey[],
    /** How long a session lasts, in seconds. */
    readonly maxAgeSeconds: number,
  ) {
    if (keys.length === 0) throw new Error("a session key ring needs at least one key");
    this.byKid = new Map(keys.map((k) => [k.kid, k.secret]));
  }

  /** Signs a session for `userId` (a new anonymous id by default) with the first key. */
  async issue(userId: string = newUserId(), nowSeconds: number = Math.floor(Date.now() / 1000)): Promise<IssuedSession> {
    const key = this.keys[0]!;
    const expiresAt = nowSeconds + this.maxAgeSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(expiresAt)
      .sign(key.secret);
    return { token, userId, expiresAt };
  }

  /**
   * The session a token carries, or undefined when it is malformed, expired, signed by a key not in
   * the ring (unknown kid) or with the wrong secret, or carries a user id this issuer never mints.
   */
  async verify(token: string, nowSeconds?: number): Promise<Session | undefined> {
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const secret = header.kid === undefined ? undefined : this.byKid.get(header.kid);
          if (secret === undefined) throw new errors.JWKSNoMatchingKey();
          return secret;
        },
        { algorithms: [ALGORITHM], issuer: ISSUER, audience: ISSUER, requiredClaims: ["sub", "exp", "iat"], currentDate: nowSeconds === undefined ? undefined : new Date(nowSeconds * 1000) },
      );
      if (typeof payload.sub !== "string" || !USER_ID_PATTERN.test(payload.sub) || typeof payload.exp !== "number") return undefined;
      return { userId: payload.sub, expiresAt: payload.exp };
    } catch (err) {
      if (err instanceof errors.JOSEError) return undefined;
      throw err;
    }
  }
}
