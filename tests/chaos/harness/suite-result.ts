/** The outcome of one chaos or consistency suite run. */
export interface SuiteResult<F extends object = Record<string, unknown>> {
  suite: string;
  /** "full" or "short". */
  form: string;
  /** True when every correctness claim held. */
  passed: boolean;
  /** One line per claim that did not hold. */
  failures: string[];
  /** The run's parameters. */
  parameters: Record<string, unknown>;
  /** The measured figures. */
  figures: F;
  /** Human-readable lines for the console summary. */
  summary: string[];
}

/** Collects claims: each failed claim becomes a failure line. */
export class Claims {
  readonly failures: string[] = [];

  /** Records `message` as a failure unless `holds`. */
  expect(holds: boolean, message: string): void {
    if (!holds) this.failures.push(message);
  }

  /** Records each of `failures` (already worded) as a failure. */
  include(failures: readonly string[]): void {
    this.failures.push(...failures);
  }

  /** The suite's result: it passed when no claim failed; the options are its parameters. */
  result<F extends object>(suite: string, options: { form: string }, figures: F, summary: string[]): SuiteResult<F> {
    return { suite, form: options.form, passed: this.failures.length === 0, failures: this.failures, parameters: { ...options }, figures, summary };
  }
}

/** Prints a result as an aligned block. */
export function formatResult(result: SuiteResult<object>): string {
  const head = `== ${result.suite} (${result.form}): ${result.passed ? "PASS" : "FAIL"}`;
  const failures = result.failures.map((f) => `   FAILED: ${f}`);
  return [head, ...result.summary.map((l) => `   ${l}`), ...failures].join("\n");
}
