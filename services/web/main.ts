import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Counter } from "prom-client";
import { ConfigError, loadConfig, type Config } from "../shared/config.js";
import { createLogger } from "../shared/logger.js";
import { metricsRegistry } from "../shared/metrics.js";
import { handleProbe } from "../shared/probe-routes.js";
import { createStaticHandler, webDistDir } from "../shared/static-files.js";
import { drainOnSignal } from "../shared/shutdown-signal.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { loadSessionKeys } from "../shared/session-keys.js";
import { createSessionIssuer, isPageRequest, type SessionIssuer } from "../shared/session-issuer.js";

/** The web tier in Kubernetes and the cluster: serves the built app, POST /session and the probes. */
const log = createLogger("web");
let config: Config;
let sessions: SessionIssuer;
try {
  config = loadConfig();
  const security = loadSecurityConfig();
  sessions = createSessionIssuer(loadSessionKeys(config, security, "service"), security, log);
} catch (err) {
  log.fatal(err instanceof ConfigError ? err.message : { err }, "invalid configuration");
  process.exit(2);
}
log.level = config.logLevel;
const root = webDistDir();
const requests = new Counter({
  name: "pixel_web_requests_total",
  help: "HTTP requests served by the web tier, by status class.",
  labelNames: ["status"] as const,
  registers: [metricsRegistry],
});
const serveStatic = createStaticHandler(root);
let draining = false;

const server = createServer((req, res) => {
  res.on("finish", () => requests.inc({ status: `${Math.floor(res.statusCode / 100)}xx` }));
  const handled = handleProbe(req, res, () => {
    if (draining) return "draining";
    if (!existsSync(join(root, "index.html"))) return `no built app at ${root} (run npm run build)`;
    return undefined;
  });
  if (handled || sessions.handle(req, res)) return;
  // The page brings a session with it, so the app's first WebSocket already carries the cookie.
  if (isPageRequest(req)) void sessions.ensurePageCookie(req, res).then(() => serveStatic(req, res));
  else serveStatic(req, res);
});

server.once("error", (err) => {
  log.fatal({ err: err.message }, "cannot listen");
  process.exit(1);
});
server.listen(config.webPort, config.host, () => log.info({ host: config.host, port: config.webPort, root }, "web listening"));

drainOnSignal(
  log,
  () =>
    new Promise<void>((resolve) => {
      draining = true;
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  0,
);
