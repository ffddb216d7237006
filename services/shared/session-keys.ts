import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, type Config } from "./config.js";
import type { SecurityConfig } from "./security-config.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "./session-token.js";

/** File under DATA_DIR where the embedded entry keeps the key it generated. */
export const LOCAL_KEY_FILE = "session-keys";

/** Which process is asking: only the single-process entry may generate and keep its own key. */
export type KeyOwner = "embedded" | "service";

/**
 * The session key ring of this process:
 * - SESSION_KEYS when set (every replica must be given the same);
 * - else, for `npm start` on the embedded store, a key generated once and kept in DATA_DIR, so a
 *   restart keeps everyone's session;
 * - else, with SESSIONS=optional, a key for this process alone (its sessions do not verify
 *   elsewhere, which an optional deployment tolerates: those clients count as anonymous);
 * - else a ConfigError: replicas that do not share keys would refuse each other's sessions.
 */
export function loadSessionKeys(config: Pick<Config, "dataDir" | "redis">, security: SecurityConfig, owner: KeyOwner): SessionTokens {
  let text = security.sessionKeys;
  if (text === undefined && owner === "embedded" && config.redis === undefined) {
    const file = join(config.dataDir, LOCAL_KEY_FILE);
    try {
      text = readFileSync(file, "utf8").trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      text = generateSessionKey("local");
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file, `${text}\n`, { mode: 0o600, flag: "wx" });
    }
  } else if (text === undefined && security.sessions === "optional") {
    text = generateSessionKey("ephemeral");
  } else if (text === undefined) {
    throw new ConfigError("SESSION_KEYS must be set (comma-separated kid:base64secret, the same on every replica; see README, Security), or SESSIONS=optional for a deployment without required sessions");
  }
  try {
    return new SessionTokens(parseSessionKeys(text), security.sessionMaxAgeSeconds);
  } catch (err) {
    throw new ConfigError(`SESSION_KEYS: ${(err as Error).message}`);
  }
}
