import { floorOf, meanOf } from './stats.js';

/** One sample of the soak: lag and memory of every live service. */
export interface Sample {
  t: number;
  phase: 'feed' | 'drain';
  lag: { ingest: number; trainer: number };
  rssMb: Record<string, number>;
  heapUsedMb: Record<string, number>;
}

/**
 * Heap and resident memory per service, judged by each window's floor (its lowest sample: the
 * heap after a collection). The first 30 s fill the caps (the heap grows with the vocabularies by
 * design) and the first kill restarts a process, so the settled baseline is 30 s to the first
 * kill; it is compared with the last minute of the feed.
 */
export function heapReport(samples: readonly Sample[], names: readonly string[], firstKillAt: number, feedEnded: number, heapTolerance: number) {
  const settled = samples.filter((s) => s.phase === 'feed' && s.t >= 30 && s.t < firstKillAt);
  const firstMinute = samples.filter((s) => s.phase === 'feed' && s.t <= 60);
  const lastMinute = samples.filter((s) => s.phase === 'feed' && s.t > feedEnded - 60);
  return Object.fromEntries(
    names.map((n) => {
      const first = floorOf(settled.map((s) => s.heapUsedMb[n]));
      const last = floorOf(lastMinute.map((s) => s.heapUsedMb[n]));
      // resident memory also holds the vectors (typed arrays live outside V8's heap): reported, not judged
      const rssFirst = meanOf(firstMinute.map((s) => s.rssMb[n]));
      const rssLast = meanOf(lastMinute.map((s) => s.rssMb[n]));
      return [
        n,
        {
          settledWindowSeconds: [30, firstKillAt],
          settledFloorMb: first,
          lastMinuteFloorMb: last,
          growth: last / first - 1,
          withinTolerance: last <= first * (1 + heapTolerance),
          settledMeanMb: meanOf(settled.map((s) => s.heapUsedMb[n])),
          firstMinuteMeanMb: meanOf(firstMinute.map((s) => s.heapUsedMb[n])),
          lastMinuteMeanMb: meanOf(lastMinute.map((s) => s.heapUsedMb[n])),
          rssFirstMinuteMeanMb: rssFirst,
          rssLastMinuteMeanMb: rssLast,
          rssGrowth: rssLast / rssFirst - 1,
        },
      ];
    }),
  );
}
