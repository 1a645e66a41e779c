/**
 * What every row module of `npm run bench` shares: the row shape written to docs/benchmarks.md,
 * the median of a run's samples, and the number formats, so each figure is computed one way.
 */

/** One line of the benchmark table. */
export interface Row {
  id: string;
  figure: string;
  baseline: string;
  result: string;
  ratio: string;
  goal: string;
  met: "yes" | "no" | "n/a" | "skipped";
}

/** The median (the mean of the two middle samples for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
/** Milliseconds, two decimals below 10 ms and one above. */
export const ms = (n: number): string => `${fmt(n, n < 10 ? 2 : 1)} ms`;
