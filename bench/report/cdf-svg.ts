/** One line of a latency chart. */
export interface CdfSeries {
  label: string;
  /** [latency ms, cumulative fraction], ascending. */
  points: Array<[number, number]>;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const W = 940;
const H = 440;
const M = { left: 70, right: 290, top: 40, bottom: 50 };
/** The deepest percentile drawn: 99.99 %. */
const TAIL_DECADES = 4;

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Renders latency distributions as an SVG: x is latency on a log scale, y is the
 * percentile on a tail-stretching scale (0, 90, 99, 99.9, 99.99 % equally spaced),
 * so both the median and the tail are readable. Hand-written, no dependencies.
 */
export function renderCdfSvg(title: string, series: CdfSeries[]): string {
  const all = series.flatMap((s) => s.points.map(([ms]) => ms)).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(all.length ? Math.min(...all) : 0.1)));
  const hi = Math.pow(10, Math.ceil(Math.log10(all.length ? Math.max(...all) : 10)));
  const decades = Math.max(1, Math.log10(hi / lo));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (ms: number) => M.left + (Math.log10(Math.max(ms, lo) / lo) / decades) * pw;
  const tail = (f: number) => Math.min(TAIL_DECADES, -Math.log10(Math.max(1 - f, 10 ** -TAIL_DECADES)));
  const y = (f: number) => M.top + ph - (tail(f) / TAIL_DECADES) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  for (let d = 0; d <= decades; d++) {
    const v = lo * 10 ** d;
    const px = x(v);
    parts.push(`<line x1="${px}" y1="${M.top}" x2="${px}" y2="${M.top + ph}" stroke="#ddd"/>`);
    parts.push(`<text x="${px}" y="${M.top + ph + 18}" text-anchor="middle">${v >= 1 ? v.toLocaleString("en-US") : v.toPrecision(1)}</text>`);
  }
  const ticks: Array<[number, string]> = [[0, "0 %"], [0.5, "50 %"], [0.9, "90 %"], [0.99, "99 %"], [0.999, "99.9 %"], [0.9999, "99.99 %"]];
  for (const [f, label] of ticks) {
    const py = y(f);
    parts.push(`<line x1="${M.left}" y1="${py}" x2="${M.left + pw}" y2="${py}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py + 4}" text-anchor="end">${label}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">latency, ms (log scale): Place sent → pixel received by another client</text>`);
  parts.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">percentile</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (s.points.length > 0) {
      // A step line: each bucket's fraction holds until the next bucket's latency.
      let d = `M${x(s.points[0]![0]).toFixed(1)},${y(0).toFixed(1)}`;
      let prevY = y(0);
      for (const [ms, f] of s.points) {
        const px = x(ms).toFixed(1);
        d += ` L${px},${prevY.toFixed(1)} L${px},${y(f).toFixed(1)}`;
        prevY = y(f);
      }
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    const ly = M.top + 14 + i * 18;
    parts.push(`<line x1="${M.left + pw + 12}" y1="${ly - 4}" x2="${M.left + pw + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${M.left + pw + 38}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
