/**
 * Summary of the convergence runs (bench/run-convergence.sh): per data set, the median and range
 * over seeds of every contender's speed-ups and best held-out P@5/MAP, LightFM's, the settings
 * tuning chose, and whether each goal of the learning core was met. The headline contender is the
 * shipped default (`auto`: its contender by label count, `defaultFor`). Reads only the
 * committed per-seed JSON; writes bench/results/convergence-summary.json.
 *
 *   npm run bench:convergence-summary
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFor } from './lib/contenders.js';
import { runEnvironment } from './lib/environment.js';

const RESULTS = 'bench/results';

interface Ratios {
  vsLightfm: number | null;
  vsBestPeer?: number | null;
  vsUniform: number | null;
  vsWarp: number | null;
}
interface BySetting {
  settings: number;
  reached: number;
  atBestSetting: number | null;
  atMedianSetting: number | null;
}
interface SeedRun {
  labels: number;
  images: number;
  settings: { seed: number };
  speedups: Record<string, Ratios>;
  contenders: Record<string, { chosen: Record<string, unknown>; bestP5: number; bestMap: number; usPerStep: number }>;
  peers: Record<string, { chosen: Record<string, unknown>; final: { bestP5: number; bestMap: number }; driver?: { ratio: number | null } }>;
  speedupsBySetting?: { contenders: Record<string, BySetting> };
  flats?: Record<string, { flatSettings: number; chosenFlat: boolean }>;
  bestPeer?: string | null;
  targets: Record<string, { target: number; seconds: Record<string, { wall: number; cpu: number } | null> } | null>;
  environment: { commit: string; dirty: boolean | null; command: string };
}

/**
 * Median and range. A missing value (the target was never reached) counts as the worst: below
 * every speed-up or score, above every number of seconds (`missingIsHigh`).
 */
interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  reached: string;
}
function spread(values: Array<number | null>, missingIsHigh = false): Spread {
  const low = missingIsHigh ? 1 : -1;
  const sorted = [...values].sort((a, b) => (a === null && b === null ? 0 : a === null ? low : b === null ? -low : a - b));
  const mid = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : medianOfPair(sorted[sorted.length / 2 - 1], sorted[sorted.length / 2]);
  return {
    median: mid,
    min: sorted[0] ?? null,
    max: sorted[sorted.length - 1] ?? null,
    reached: `${values.filter((v) => v !== null).length}/${values.length}`,
  };
}
function medianOfPair(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : round((a + b) / 2);
}
const round = (x: number): number => Math.round(x * 1e4) / 1e4;
const atLeast = (s: Spread, goal: number): boolean => s.median !== null && s.median >= goal;

const files = readdirSync(RESULTS).filter((f) => /^convergence-.+-seed\d+\.json$/.test(f));
if (files.length === 0) throw new Error(`no convergence-*-seed*.json in ${RESULTS}: run bash bench/run-convergence.sh first`);
const byDataset = new Map<string, Array<{ file: string; run: SeedRun }>>();
for (const file of files.sort()) {
  const dataset = file.replace(/^convergence-/, '').replace(/-seed\d+\.json$/, '');
  const run = JSON.parse(readFileSync(join(RESULTS, file), 'utf8')) as SeedRun;
  byDataset.set(dataset, [...(byDataset.get(dataset) ?? []), { file, run }]);
}

/** One contender's best held-out scores and tuned setting in one run (ours or LightFM's). */
function bestOf(run: SeedRun, name: string): { p5: number; map: number; chosen: Record<string, unknown> } | null {
  const peer = run.peers[name] as SeedRun['peers'][string] | undefined;
  if (peer !== undefined) return 'final' in peer ? { p5: peer.final.bestP5, map: peer.final.bestMap, chosen: peer.chosen } : null;
  const c = run.contenders[name];
  return c ? { p5: c.bestP5, map: c.bestMap, chosen: c.chosen } : null;
}

/** The learning core's goals (issue 8), per data set: speed-up over LightFM and over uniform. */
const goals: Record<string, { vsLightfm: number; vsUniform: number | null }> = {
  corel5k: { vsLightfm: 1, vsUniform: 1.5 },
  mirflickr25k: { vsLightfm: 1, vsUniform: null },
  synthetic5000: { vsLightfm: 3, vsUniform: 2 },
};

const datasets = Object.fromEntries(
  [...byDataset.entries()].map(([dataset, runs]) => {
    const labels = runs[0].run.labels;
    const headline = defaultFor(labels);
    const names = Object.keys(runs[0].run.speedups);
    const contenders = Object.fromEntries(
      names.map((n) => {
        const best = runs.map((r) => bestOf(r.run, n));
        return [
          n,
          {
            vsLightfm: spread(runs.map((r) => r.run.speedups[n]?.vsLightfm ?? null)),
            vsBestPeer: spread(runs.map((r) => r.run.speedups[n]?.vsBestPeer ?? null)),
            atBestSetting: spread(runs.map((r) => r.run.speedupsBySetting?.contenders[n]?.atBestSetting ?? null)),
            atMedianSetting: spread(runs.map((r) => r.run.speedupsBySetting?.contenders[n]?.atMedianSetting ?? null)),
            flatSettings: runs.map((r) => r.run.flats?.[n]?.flatSettings ?? null),
            chosenFlat: runs.some((r) => r.run.flats?.[n]?.chosenFlat === true),
            driverOverhead: runs.map((r) => r.run.peers[n]?.driver?.ratio ?? null),
            vsUniform: spread(runs.map((r) => r.run.speedups[n]?.vsUniform ?? null)),
            vsWarp: spread(runs.map((r) => r.run.speedups[n]?.vsWarp ?? null)),
            bestP5: spread(best.map((b) => b?.p5 ?? null)),
            bestMap: spread(best.map((b) => b?.map ?? null)),
            secondsToLightfmTarget: spread(
              runs.map((r) => r.run.targets.lightfm?.seconds[n]?.wall ?? null),
              true,
            ),
            cpuSecondsToLightfmTarget: spread(
              runs.map((r) => r.run.targets.lightfm?.seconds[n]?.cpu ?? null),
              true,
            ),
            chosen: best.map((b) => b?.chosen ?? null),
          },
        ];
      }),
    );
    const head = contenders[headline];
    const lightfm = contenders['lightfm-warp'];
    const goal = goals[dataset];
    const met = goal
      ? {
          vsLightfm: { goal: goal.vsLightfm, met: atLeast(head.vsLightfm, goal.vsLightfm) },
          p5AndMapAtLeastLightfm: {
            met:
              head.bestP5.median !== null &&
              lightfm.bestP5.median !== null &&
              head.bestP5.median >= lightfm.bestP5.median &&
              (head.bestMap.median ?? 0) >= (lightfm.bestMap.median ?? 0),
          },
          vsUniform: goal.vsUniform === null ? null : { goal: goal.vsUniform, met: atLeast(head.vsUniform, goal.vsUniform) },
        }
      : null;
    return [
      dataset,
      {
        labels,
        images: runs[0].run.images,
        seeds: runs.map((r) => r.run.settings.seed),
        default: `auto = ${headline} at ${labels} labels`,
        headline,
        speedupVsLightfm: head.vsLightfm,
        speedupVsUniform: head.vsUniform,
        speedupVsBestPeer: head.vsBestPeer,
        bestPeers: runs.map((r) => r.run.bestPeer ?? null),
        noChosenSettingFlat: Object.values(contenders).every((c) => !c.chosenFlat),
        goals: met,
        contenders,
        sources: runs.map((r) => ({ file: r.file, commit: r.run.environment.commit, dirty: r.run.environment.dirty, command: r.run.environment.command })),
      },
    ];
  }),
);

/**
 * Repeatability: the same seed run twice on this machine (`-repeat` files); for every contender,
 * the ratio of its speed-up over LightFM in the repeat to the first run's.
 */
const repeats = Object.fromEntries(
  readdirSync(RESULTS)
    .filter((f) => /^convergence-.+-seed\d+-repeat\.json$/.test(f))
    .map((f) => {
      const again = JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as SeedRun;
      const first = JSON.parse(readFileSync(join(RESULTS, f.replace('-repeat', '')), 'utf8')) as SeedRun;
      const ratios = Object.fromEntries(
        Object.keys(first.speedups).map((n) => {
          const a = first.speedups[n]?.vsLightfm ?? null;
          const b = again.speedups[n]?.vsLightfm ?? null;
          return [n, { first: a, repeat: b, ratio: a === null || b === null ? null : round(b / a) }];
        }),
      );
      const headline = defaultFor(first.labels);
      const r = ratios[headline]?.ratio ?? null;
      return [f.replace(/^convergence-|\.json$/g, ''), { headline, withinTwentyPercent: r !== null && r >= 1 / 1.2 && r <= 1.2, contenders: ratios }];
    }),
);

const out = join(RESULTS, 'convergence-summary.json');
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: 'convergence-summary',
      rule: 'median and range over seeds; a contender that never reached a target counts as the worst value (below every speed-up, above every number of seconds; null when it missed in most seeds); `reached` = seeds that reached it',
      datasets,
      repeats,
      environment: runEnvironment(),
    },
    null,
    1,
  )}\n`,
);
for (const [name, d] of Object.entries(datasets)) {
  const h = d.speedupVsLightfm;
  const u = d.speedupVsUniform;
  console.log(`${name}: ${d.default}; vs LightFM median ${h.median} [${h.min}, ${h.max}] (${h.reached}); vs uniform median ${u.median} [${u.min}, ${u.max}]`);
}
console.log(`wrote ${out}`);
