import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../tools/process/service-process.js";

describe("generated code", () => {
  it("gen/ matches what buf generate writes from proto/", () => {
    const out = execFileSync("bash", ["scripts/check-generated.sh"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(out).toContain("gen/ is fresh");
  });

  it("buf lint passes on proto/", () => {
    // execFileSync throws on a non-zero exit (buf lint exits 100 on violations).
    const out = execFileSync("npx", ["buf", "lint"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(out.trim()).toBe("");
  });
});
