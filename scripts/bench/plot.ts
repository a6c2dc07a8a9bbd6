import type { RateResult } from "./open-loop.ts";

/**
 * Latency percentiles (POST -> final WebSocket frame) against the offered rate, as an SVG: a
 * log-scale latency axis makes the knee, where the backlog starts, visible at a glance.
 */
export function latencyPlot(results: Array<Omit<RateResult, "placed">>): string {
  const width = 720;
  const height = 420;
  const left = 70;
  const right = 130;
  const top = 40;
  const bottom = 60;
  const rates = results.map((r) => r.offered);
  const series: Array<[string, string, (r: Omit<RateResult, "placed">) => number | null]> = [
    ["p50", "#2b8a3e", (r) => r.settleMs.p50],
    ["p90", "#e67700", (r) => r.settleMs.p90],
    ["p99", "#c92a2a", (r) => r.settleMs.p99],
    ["max", "#868e96", (r) => r.settleMs.max],
  ];
  const values = results
    .flatMap((r) => series.map(([, , pick]) => pick(r)))
    .filter((v): v is number => v !== null && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 10))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 100))));
  const x = (i: number) => left + (rates.length === 1 ? 0.5 : i / (rates.length - 1)) * (width - left - right);
  const y = (v: number) =>
    top + (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15">Order -> final WebSocket frame, by offered rate (open loop)</text>`,
  ];
  for (let decade = lo; decade <= hi; decade *= 10) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(decade)}" y2="${y(decade)}" stroke="#dee2e6"/>`);
    parts.push(
      `<text x="${left - 8}" y="${y(decade) + 4}" text-anchor="end">${decade >= 1000 ? `${decade / 1000} s` : `${decade} ms`}</text>`,
    );
  }
  results.forEach((r, i) =>
    parts.push(`<text x="${x(i)}" y="${height - bottom + 20}" text-anchor="middle">${r.offered}/s</text>`),
  );
  parts.push(
    `<text x="${(left + width - right) / 2}" y="${height - 15}" text-anchor="middle">offered orders per second</text>`,
  );
  series.forEach(([name, color, pick], s) => {
    const points = results
      .map((r, i) => [x(i), pick(r)] as const)
      .filter(([, v]) => v !== null && v > 0)
      .map(([px, v]) => `${px},${y(v!)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(" ")}"/>`);
    for (const point of points) {
      const [px, py] = point.split(",");
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${color}"/>`);
    }
    parts.push(`<text x="${width - right + 15}" y="${top + 15 + s * 18}" fill="${color}">${name}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
