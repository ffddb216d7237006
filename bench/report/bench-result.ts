import type { PhaseResult } from "../phase.js";
import type { RunInfo } from "../run-info.js";

/** The JSON written for one run of one scenario against one target. */
export interface BenchResult {
  scenario: string;
  target: string;
  run: RunInfo;
  /** Every flag value the run used, defaults included. */
  parameters: Record<string, number | boolean | string>;
  /** The scenario's answer in a few named figures (for example the knee rate or RSS per connection). */
  headline: Record<string, number | string | boolean>;
  /** Load generator: threads and what its process cost, from the phases' process samples. */
  generator: { workers: number; pid: number };
  phases: PhaseResult[];
  /** Free-form facts the summary shows under the headline. */
  notes: string[];
}
