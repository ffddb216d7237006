import { describe, expect, it } from "vitest";
import { renderHaproxyConfig, type HaproxyLayout } from "./haproxy-config.js";

// Rendering only; haproxy itself checks and runs the config in haproxy-config.e2e.test.ts.
const LAYOUT: HaproxyLayout = {
  frontPort: 8000,
  canvasGrpcPort: 8001,
  statsPort: 8002,
  web: [{ name: "web", port: 8010 }],
  canvasHttp: [{ name: "canvas-0", port: 8020 }],
  canvasGrpc: [{ name: "canvas-0", port: 8030, checkPort: 1 }],
  gateways: [{ name: "gateway-0", port: 8040 }, { name: "gateway-1", port: 8041 }],
  wsBalance: "leastconn",
  maxConnections: 1000,
};

describe("renderHaproxyConfig", () => {
  it("routes /ws to gateways, /api to canvas HTTP and the rest to web, with health checks and a long tunnel timeout", () => {
    const text = renderHaproxyConfig(LAYOUT);
    expect(text).toMatch(/use_backend gateways if is_ws/);
    expect(text).toMatch(/use_backend canvas_http if is_api/);
    expect(text).toMatch(/default_backend web/);
    expect(text).toMatch(/balance leastconn/);
    expect(text).toMatch(/timeout tunnel 1h/);
    expect(text).toMatch(/server canvas-0 127\.0\.0\.1:8030 check .* port 1/);
  });

  it("leaves the canvas TCP balancer out when gateways talk to canvases directly", () => {
    expect(renderHaproxyConfig(LAYOUT)).toMatch(/listen canvas_grpc/);
    expect(renderHaproxyConfig({ ...LAYOUT, canvasGrpcPort: undefined })).not.toMatch(/listen canvas_grpc/);
  });
});
