/** One server row of haproxy's CSV statistics. */
export interface HaproxyServerStats {
  /** Backend (proxy) name, for example `gateways`. */
  backend: string;
  /** Server name, for example `gateway-0`. */
  server: string;
  /** Current sessions (for a WebSocket backend: open connections). */
  current: number;
  /** Sessions since haproxy started. */
  total: number;
  /** `UP`, `DOWN`, `MAINT`, ... as haproxy reports it. */
  status: string;
}

/**
 * Parses the CSV haproxy serves at `<stats uri>;csv` into per-server rows (the
 * FRONTEND and BACKEND summary rows are left out). Throws on a CSV without the
 * expected columns, so a format change is loud.
 */
function parseHaproxyStats(csv: string): HaproxyServerStats[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = lines.shift()?.replace(/^#\s*/, "").split(",") ?? [];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`haproxy stats CSV has no "${name}" column`);
    return i;
  };
  const [px, sv, scur, stot, status] = [col("pxname"), col("svname"), col("scur"), col("stot"), col("status")];
  const rows: HaproxyServerStats[] = [];
  for (const line of lines) {
    const f = line.split(",");
    const server = f[sv] ?? "";
    if (server === "FRONTEND" || server === "BACKEND") continue;
    rows.push({ backend: f[px] ?? "", server, current: Number(f[scur] ?? 0), total: Number(f[stot] ?? 0), status: f[status] ?? "" });
  }
  return rows;
}

/** Fetches and parses the stats of the haproxy whose stats page is at `statsUrl`. */
export async function fetchHaproxyStats(statsUrl: string): Promise<HaproxyServerStats[]> {
  const res = await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(2_000) });
  if (res.status !== 200) throw new Error(`haproxy stats at ${statsUrl} answered ${res.status}`);
  return parseHaproxyStats(await res.text());
}
