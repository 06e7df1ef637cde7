import { pointAtTarget, type CurvePoint } from './convergence-run.js';

const INF = Number.POSITIVE_INFINITY;
const round = (x: number): number => Math.round(x * 1e5) / 1e5;

/** A contender's run with its chosen setting on the held-out data. */
export interface FinalRun {
  curve: CurvePoint[];
  bestP5: number;
  bestMap: number;
}

/** A contender's tuning runs on the validation split: each setting's curve (rows [seconds, cpu, steps or epochs, p5, map]) and whether it ended flat. */
export interface TuningRuns {
  curves: number[][][];
  flat: boolean[];
  chosenFlat: boolean;
}

export interface Target {
  target: number;
  seconds: Record<string, { wall: number; cpu: number } | null>;
}

/**
 * The comparisons a convergence run reports, ours and the peers' alike:
 *  - seconds (wall and CPU) for every contender to reach 0.99 x a reference's best held-out P@5
 *    (LightFM WARP, the strongest peer of the run, our uniform control, our WARP), and the ratios;
 *  - speed-ups that do not hinge on one tuning pick: from the tuning runs, each setting's seconds
 *    to 0.99 x LightFM WARP's best validation P@5, each contender at its best and at its median
 *    setting against LightFM WARP at its best;
 *  - the settings that ended at their starting value (flat), and whether a chosen one did.
 */
export function analyseRuns(finals: Record<string, FinalRun>, tunings: Record<string, TuningRuns>, peerNames: readonly string[], reference = 'lightfm-warp') {
  const toTarget = (ref: string): Target | null => {
    const r = finals[ref];
    if (r === undefined) return null;
    const target = 0.99 * r.bestP5;
    const seconds = Object.fromEntries(
      Object.entries(finals).map(([n, f]) => {
        const p = pointAtTarget(f.curve, target);
        return [n, p === null ? null : { wall: round(p.seconds), cpu: round(p.cpuSeconds) }];
      }),
    );
    return { target: round(target), seconds };
  };
  // the strongest peer of this run: the one with the best held-out P@5
  const bestPeer = peerNames.filter((n) => finals[n] !== undefined).sort((a, b) => finals[b].bestP5 - finals[a].bestP5)[0];
  const targets = {
    lightfm: toTarget(reference),
    bestPeer: bestPeer === undefined ? null : toTarget(bestPeer),
    uniform: toTarget('uniform'),
    warp: toTarget('warp'),
  };
  const ratio = (t: Target | null, ref: string, who: string): number | null => {
    const a = t?.seconds[ref];
    const b = t?.seconds[who];
    return a == null || b == null || b.wall === 0 ? null : round(a.wall / b.wall);
  };
  const speedups = Object.fromEntries(
    Object.keys(finals).map((n) => [
      n,
      {
        vsLightfm: ratio(targets.lightfm, reference, n),
        vsBestPeer: bestPeer === undefined ? null : ratio(targets.bestPeer, bestPeer, n),
        vsUniform: ratio(targets.uniform, 'uniform', n),
        vsWarp: ratio(targets.warp, 'warp', n),
      },
    ]),
  );
  const secondsTo = (curve: number[][], target: number): number => curve.find((c) => c[3] >= target)?.[0] ?? INF;
  const refTuning = tunings[reference]?.curves;
  const validationTarget = refTuning === undefined ? null : 0.99 * Math.max(...refTuning.flatMap((c) => c.map((row) => row[3])));
  const refSeconds = validationTarget === null || refTuning === undefined ? INF : Math.min(...refTuning.map((c) => secondsTo(c, validationTarget)));
  const bySetting = Object.fromEntries(
    Object.entries(tunings).map(([n, t]) => {
      const seconds = t.curves.map((c) => (validationTarget === null ? INF : secondsTo(c, validationTarget))).sort((a, b) => a - b);
      const mid = seconds.length / 2;
      const median = seconds.length % 2 === 1 ? seconds[(seconds.length - 1) / 2] : (seconds[mid - 1] + seconds[mid]) / 2;
      const vs = (x: number): number | null => (Number.isFinite(x) && Number.isFinite(refSeconds) && x > 0 ? round(refSeconds / x) : null);
      return [n, { settings: seconds.length, reached: seconds.filter(Number.isFinite).length, atBestSetting: vs(seconds[0]), atMedianSetting: vs(median) }];
    }),
  );
  const flats = Object.fromEntries(Object.entries(tunings).map(([n, t]) => [n, { flatSettings: t.flat.filter(Boolean).length, chosenFlat: t.chosenFlat }]));
  return { bestPeer: bestPeer ?? null, targets, speedups, bySetting, validationTarget: validationTarget === null ? null : round(validationTarget), flats };
}
