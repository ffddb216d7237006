import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResult } from "./bench-result.js";
import { renderCdfSvg, type CdfSeries } from "./cdf-svg.js";
import { renderSummaryMd } from "./summary-md.js";

/** Paths of the three files a run writes. */
export interface WrittenResult {
  json: string;
  md: string;
  svg: string;
}

/** Writes `<scenario>-<target>-<timestamp>.{json,md,svg}` into `dir`. */
export function writeResults(result: BenchResult, dir: string): WrittenResult {
  mkdirSync(dir, { recursive: true });
  const stamp = result.run.startedAt.replace(/[:.]/g, "-");
  const base = `${result.scenario}-${result.target}-${stamp}`;
  const paths = { json: join(dir, `${base}.json`), md: join(dir, `${base}.md`), svg: join(dir, `${base}.svg`) };
  const series: CdfSeries[] = result.phases.filter((p) => p.latency.count > 0).map((p) => ({ label: `${p.name} (p99 ${p.latency.p99Ms} ms)`, points: p.cdf }));
  writeFileSync(paths.json, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(paths.svg, renderCdfSvg(`${result.scenario} — ${result.target}`, series));
  writeFileSync(paths.md, renderSummaryMd(result, `${base}.svg`));
  return paths;
}
