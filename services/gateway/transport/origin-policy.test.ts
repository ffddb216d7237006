import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../shared/config.js";
import { originAllowed } from "./origin-policy.js";

describe("originAllowed", () => {
  const listed = ["https://pixels.example"];

  it("allows the page's own origin (host and port equal the Host header, default ports folded) and no Origin at all", () => {
    expect(originAllowed([], "http://localhost:3000", "localhost:3000")).toBe(true);
    expect(originAllowed([], "https://pixels.example", "pixels.example:443")).toBe(true);
    expect(originAllowed([], "https://Pixels.Example", "pixels.example")).toBe(false);
    expect(originAllowed([], undefined, "localhost:3000")).toBe(true);
  });

  it("refuses other sites, null, look-alikes, other ports and non-web schemes", () => {
    for (const origin of ["https://evil.example", "null", "https://localhost:3000.evil.example", "http://localhost:3001", "http://localhost.evil.example:3000", "file://localhost:3000", "chrome-extension://abc"]) {
      expect(originAllowed(listed, origin, "localhost:3000"), origin).toBe(false);
    }
    expect(originAllowed(listed, "https://pixels.example.evil.example", "localhost:3000")).toBe(false);
    expect(originAllowed(listed, "http://localhost:3000", undefined)).toBe(false);
  });

  it("allows a listed origin exactly, and any with *", () => {
    expect(originAllowed(listed, "https://pixels.example", "localhost:3000")).toBe(true);
    expect(originAllowed(listed, "http://pixels.example", "localhost:3000")).toBe(false);
    expect(originAllowed(["*"], "https://evil.example", "localhost:3000")).toBe(true);
  });
});

describe("ALLOWED_ORIGINS in loadConfig", () => {
  it("parses origins (lower-cased, trailing slash dropped) and *, and rejects anything that is not an origin", () => {
    expect(loadConfig({ ALLOWED_ORIGINS: " https://Pixels.example/ , * ,http://localhost:5173" }).allowedOrigins).toEqual(["https://pixels.example", "*", "http://localhost:5173"]);
    expect(loadConfig({}).allowedOrigins).toEqual([]);
    for (const bad of ["pixels.example", "https://pixels.example/app", "null", "ftp://pixels.example"]) {
      expect(() => loadConfig({ ALLOWED_ORIGINS: bad }), bad).toThrow(ConfigError);
    }
  });
});
