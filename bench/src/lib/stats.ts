/** Summaries the benchmarks report: medians with their range over seeds or rounds, percentiles of latencies. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function range(xs: readonly number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)];
}

/** The q-quantile by the nearest rank below (NaN of nothing). */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The finite values among samples (a service between its kill and its restart has none). */
const taken = (xs: ReadonlyArray<number | undefined>): number[] => xs.filter((x): x is number => x !== undefined && Number.isFinite(x));

/** Lowest of the samples taken: the heap just after a collection. */
export function floorOf(xs: ReadonlyArray<number | undefined>): number {
  return Math.min(...taken(xs));
}

/** Mean of the samples taken. */
export function meanOf(xs: ReadonlyArray<number | undefined>): number {
  const t = taken(xs);
  return t.reduce((a, b) => a + b, 0) / Math.max(1, t.length);
}
