/** A flag's default decides its type: number, boolean or string. */
export type FlagValue = number | boolean | string;
/** A scenario's flags with their defaults. */
export type FlagDefaults = Record<string, FlagValue>;

/** Thrown for a bad command line, with a message naming the flag. */
export class UsageError extends Error {}

/**
 * Parses `--name value`, `--name=value` and bare boolean `--name` / `--no-name`
 * against `defaults`; an unknown flag or a value of the wrong type is a UsageError.
 */
export function parseFlags<T extends FlagDefaults>(argv: string[], defaults: T): T {
  const out: FlagDefaults = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"; flags look like --name value`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let negated = false;
    if (!(name in defaults) && name.startsWith("no-") && typeof defaults[name.slice(3)] === "boolean") {
      name = name.slice(3);
      negated = true;
    }
    if (!(name in defaults)) throw new UsageError(`unknown flag --${name}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(" ")}`);
    const fallback = defaults[name]!;
    if (typeof fallback === "boolean") {
      if (value === undefined && argv[i + 1] !== undefined && /^(true|false)$/.test(argv[i + 1]!)) value = argv[++i];
      out[name] = negated ? false : value === undefined ? true : value === "true";
      continue;
    }
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (typeof fallback === "number") {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} needs a non-negative number, got "${value}"`);
      out[name] = n;
    } else {
      out[name] = value;
    }
  }
  return out as T;
}
