import type { Prng } from "../../tools/prng.js";

/** Applies one byte-level mutation in place and names it. */
export function mutate(rng: Prng, bytes: number[]): string {
  if (bytes.length === 0) {
    bytes.push(rng.int(256));
    return "insert";
  }
  const at = rng.int(bytes.length);
  switch (rng.int(7)) {
    case 0:
      bytes[at] = (bytes[at] as number) ^ (1 << rng.int(8));
      return `bitflip@${at}`;
    case 1:
      bytes[at] = rng.int(256);
      return `byte@${at}`;
    case 2:
      bytes.splice(at, 0, rng.int(256));
      return `insert@${at}`;
    case 3:
      bytes.splice(at, 1);
      return `delete@${at}`;
    case 4:
      bytes.length = at;
      return `truncate@${at}`;
    case 5: {
      const n = rng.between(1, Math.min(8, bytes.length - at));
      bytes.splice(at, 0, ...bytes.slice(at, at + n));
      return `dup${n}@${at}`;
    }
    default: {
      // A field-0 tag with a small value: illegal protobuf that a lenient scanner may skip.
      bytes.splice(at, 0, 0x00, rng.int(0x80));
      return `field0@${at}`;
    }
  }
}
