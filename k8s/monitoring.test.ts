import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../gen/pixel/v1/realtime_pb.js";
import { codeLabel } from "../services/canvas/code-label.js";
import { K8S_DIR, type K8sObject } from "./kustomize-render.js";
import { selectorMatches } from "./network-policy-flows.js";
import { find, renderAll } from "./rendered-overlays.js";

const ROOT = join(K8S_DIR, "..");
type Rule = { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

/** Every string literal `"pixel_..."` in the services' sources: the metric names they register. */
function metricNamesInServices(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) {
        for (const m of readFileSync(path, "utf8").matchAll(/name: "(pixel_[a-z0-9_]+)"/g)) names.add(m[1] as string);
      }
    }
  };
  walk(join(ROOT, "services"));
  return names;
}

/** GitHub's anchor for a Markdown heading. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
}

let objects: K8sObject[];
let cleanup: () => void;
beforeAll(() => {
  const all = renderAll(["overlays/prod-monitoring"]);
  objects = all.rendered.get("overlays/prod-monitoring") ?? [];
  cleanup = all.cleanup;
});
afterAll(() => cleanup());

describe("monitoring component", () => {
  const rules = (): Rule[] => {
    const rule = find(objects, "PrometheusRule", "pixel-playground");
    return (rule.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  };

  it("each ServiceMonitor selects one of our Services and scrapes /metrics on a port it names", () => {
    const monitors = objects.filter((o) => o.kind === "ServiceMonitor");
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(["archiver", "canvas", "gateway", "web"]);
    for (const m of monitors) {
      const spec = m.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
      const services = objects.filter((o) => o.kind === "Service" && selectorMatches(spec.selector, o.metadata.labels ?? {}));
      expect(services.map((s) => s.metadata.name), m.metadata.name).toEqual([m.metadata.name]);
      const portNames = (services[0]?.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
      for (const e of spec.endpoints) {
        expect(portNames, m.metadata.name).toContain(e.port);
        expect(e.path).toBe("/metrics");
      }
    }
  });

  it("alerts on the reconnection rate, broadcast p99, delivery failures, Unavailable writes and Redis down", () => {
    const exprs = rules().map((r) => r.expr.replace(/\s+/g, " "));
    const has = (re: RegExp): boolean => exprs.some((e) => re.test(e));
    expect(has(/rate\(pixel_gateway_reconnects_total\[/)).toBe(true);
    expect(has(/histogram_quantile\(0\.99, .*pixel_gateway_fanout_latency_seconds_bucket/)).toBe(true);
    expect(has(/rate\(pixel_gateway_delivery_failures_total\[/)).toBe(true);
    expect(has(/rate\(pixel_gateway_errors_total\{code=~"\(ERROR_CODE_\)\?UNAVAILABLE"\}\[/)).toBe(true);
    expect(has(/pixel_redis_connected\) == 0/)).toBe(true);
  });

  it("every alert has a severity, a summary and a runbook section that exists in docs/operations.md", () => {
    const doc = readFileSync(join(ROOT, "docs", "operations.md"), "utf8");
    const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1] as string)));
    const alerts = rules().filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    for (const r of alerts) {
      expect(["warning", "critical"], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      const url = r.annotations?.runbook_url ?? "";
      expect(url, r.alert).toBe(`docs/operations.md#${(r.alert ?? "").toLowerCase()}`);
      expect(anchors.has((r.alert ?? "").toLowerCase()), `docs/operations.md has no "### ${r.alert}" section`).toBe(true);
    }
  });

  it("label values in the rules are the ones the services emit", () => {
    const matcher = (metric: string): RegExp => {
      const expr = rules().map((r) => r.expr).find((e) => e.includes(metric)) ?? "";
      const m = new RegExp(`${metric}\\{code=~"([^"]+)"\\}`).exec(expr);
      if (!m) throw new Error(`no code matcher on ${metric}`);
      return new RegExp(`^(?:${m[1]})$`);
    };
    // The gateway labels errors with ErrorCode[code] (services/gateway/session/connection.ts).
    expect(matcher("pixel_gateway_errors_total").test(ErrorCode[ErrorCode.UNAVAILABLE])).toBe(true);
    const canvasCodes = matcher("pixel_canvas_rpc_errors_total");
    for (const c of [Code.Unavailable, Code.Internal, Code.Unknown, Code.DeadlineExceeded, Code.DataLoss]) expect(canvasCodes.test(codeLabel(c)), Code[c]).toBe(true);
    for (const c of [Code.InvalidArgument, Code.NotFound, Code.ResourceExhausted, Code.PermissionDenied]) expect(canvasCodes.test(codeLabel(c)), Code[c]).toBe(false);
  });

  it("every metric the rules use is one the services register", () => {
    const registered = metricNamesInServices();
    const used = new Set(rules().flatMap((r) => [...r.expr.matchAll(/\b(pixel_[a-z0-9_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, ""))));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(registered, name).toContain(name);
  });
});
