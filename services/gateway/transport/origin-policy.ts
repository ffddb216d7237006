/**
 * Whether a WebSocket upgrade may proceed, judged by its Origin header. Origin checks guard
 * against cross-site WebSocket hijacking: a page on another site opening /ws in a visitor's
 * browser. Browsers always send Origin on a WebSocket handshake, so:
 * - no Origin header: allowed. Only non-browser clients (the bench, the chaos harness, CLI tools)
 *   omit it, and such a client could send any Origin it liked, so refusing it protects nothing;
 * - the page's own origin (the Origin's host:port equals the request's Host): always allowed, so
 *   `npm start`, a dev proxy that keeps Host, and an ingress on the app's host need no setting;
 * - an origin listed in `allowed` (ALLOWED_ORIGINS): allowed; `*` in the list allows any;
 * - anything else, `null` (sandboxed frames, file: pages) and unparseable values included: refused.
 */
export function originAllowed(allowed: readonly string[], origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (allowed.includes("*") || allowed.includes(origin)) return true;
  return host !== undefined && sameHost(origin, host);
}

function sameHost(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  // Browsers send the canonical form; anything else (a path, upper case, a trailing dot-port) is no page origin.
  if (url.origin !== origin) return false;
  try {
    // Parsed with the Origin's scheme, so a Host with the default port (example.com:443) still matches.
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}
