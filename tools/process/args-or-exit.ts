/**
 * Parses a command line with `parse`, or writes the error it threw (usage text included) to stderr
 * and exits with 2, the usual status for bad usage, so a mistyped flag never starts a long run.
 */
export function argsOrExit<T>(parse: (argv: string[]) => T, argv: string[] = process.argv.slice(2)): T {
  try {
    return parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}
