/**
 * Scale-out simulation (docs/scale-out.md): K trainer shards, each owning the images of its
 * Kafka partitions, sharing the label rows through deltas exchanged every S steps (the staleness
 * bound). Measures held-out P@5 against the steps each shard makes, so the wall time K shards
 * would need in parallel, against one trainer on everything.
 *
 *   npm run bench:scale-out -- [--train F --test F | --synthetic-labels N] [--shards 1,2,4,8] [--staleness 10000,100000,1000000]
 *
 * Every shard is the WebAssembly kernel on one thread; shards run one after another here, so
 * "parallel seconds" is the slowest shard's training time, what K processes would take side by
 * side. A sync adds every shard's label change since the last sync to the shared labels (delta
 * merge) and hands the result to every shard; each shard keeps its own AdaGrad sums.
 */
import { Rng, defaultImageLabelConfig, evaluateAnnotation, leaveOneOut, mergeById, resolvePairs, type LabeledImage } from '@freshet/core';
import { generateSynthetic, readImageLabelFile } from '@freshet/datasets';
import { ImageLabelFitter } from '@freshet/kernels';
import { partitionForKey } from '@freshet/transport';
import { listArg, numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const seed = numberArg(args, 'seed', 1);
const shardCounts = listArg(args, 'shards', [1, 2, 4, 8]);
const stalenessSteps = listArg(args, 'staleness', [10_000, 100_000, 1_000_000]);
const totalSteps = numberArg(args, 'steps', 4_000_000);
const evalEvery = numberArg(args, 'eval-every', 200_000);
const dim = numberArg(args, 'dim', 64);
const lr = numberArg(args, 'lr', 0.05);

function load(): { name: string; images: LabeledImage[] } {
  const synth = args.get('synthetic-labels');
  if (synth !== undefined) {
    return {
      name: `synthetic(labels=${synth})`,
      images: generateSynthetic({ images: 20_000, labels: Number(synth), rank: 16, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed }),
    };
  }
  const train = args.get('train');
  if (train === undefined) throw new Error('give --train FILE [--test FILE], or --synthetic-labels N');
  const test = args.get('test');
  return {
    name: [train, test].filter(Boolean).join(' + '),
    images: mergeById(readImageLabelFile(train), ...(test !== undefined ? [readImageLabelFile(test)] : [])),
  };
}

const { name, images } = load();
const split = leaveOneOut(images, new Rng(seed));
const allLabels = [...new Set(images.flatMap((i) => i.labels))];
const heldOut = split.test;

/** Kafka's placement of an image id among K partitions: the shard that owns its vector. */
const shardOf = (id: string, k: number): number => partitionForKey(Buffer.from(id), k);

interface Point {
  stepsPerShard: number;
  parallelSeconds: number;
  p5: number;
  map: number;
}

async function simulate(k: number, staleness: number): Promise<{ curve: Point[]; bestP5: number }> {
  const shards: ImageLabelFitter[] = [];
  for (let s = 0; s < k; s++) {
    const own = split.train.filter((i) => shardOf(i.id, k) === s);
    shards.push(
      await ImageLabelFitter.create(own, allLabels, {
        config: { ...defaultImageLabelConfig, dim, optimizer: 'adagrad', labelBias: true, reg: 0.003 },
        sampler: { kind: 'auto', candidates: 1, maxSampled: 30, lambdaFraction: 0.3, mixShare: 0, maxRetries: 10 },
        lr,
        engine: 'wasm',
        threads: 1,
        seed: seed + s,
      }),
    );
  }
  // labels are registered in a different order per shard: map every shard's rows to shard 0's ids
  const ref = shards[0].model;
  const width = ref.width;
  const rowsOf = shards.map((t) => allLabels.map((l) => t.model.labels.idOf(l)));
  const shared = new Float32Array(allLabels.length * width);
  allLabels.forEach((_, j) => shared.set(ref.labelVectors.data.subarray(rowsOf[0][j] * width, (rowsOf[0][j] + 1) * width), j * width));
  const push = (): void => {
    for (const [s, t] of shards.entries())
      allLabels.forEach((_, j) => t.model.labelVectors.data.set(shared.subarray(j * width, (j + 1) * width), rowsOf[s][j] * width));
  };
  push();
  const sync = (): void => {
    const before = shared.slice();
    for (const [s, t] of shards.entries()) {
      const d = t.model.labelVectors.data;
      for (let j = 0; j < allLabels.length; j++) {
        const r = rowsOf[s][j] * width;
        for (let f = 0; f < width; f++) shared[j * width + f] += d[r + f] - before[j * width + f];
      }
    }
    push();
  };
  const curve: Point[] = [];
  const seconds = new Array<number>(k).fill(0);
  const perShardTotal = Math.ceil(totalSteps / k);
  let done = 0;
  let nextEval = evalEvery / k;
  while (done < perShardTotal) {
    const n = Math.min(staleness, perShardTotal - done);
    for (const [s, t] of shards.entries()) {
      const t0 = performance.now();
      await t.train(n);
      seconds[s] += (performance.now() - t0) / 1000;
    }
    if (k > 1) sync();
    done += n;
    if (done >= nextEval || done >= perShardTotal) {
      nextEval += evalEvery / k;
      // each held-out pair is scored by the shard that owns its image, with the shared labels
      let p5 = 0;
      let map = 0;
      let pairs = 0;
      for (const [s, t] of shards.entries()) {
        const mine = heldOut.filter((p) => shardOf(p.id, k) === s);
        if (mine.length === 0) continue;
        const m = evaluateAnnotation(t.model, resolvePairs(t.model, mine), new Rng(seed), t.scorer());
        p5 += m.p5 * mine.length;
        map += m.map * mine.length;
        pairs += mine.length;
      }
      curve.push({ stepsPerShard: done, parallelSeconds: Math.max(...seconds), p5: p5 / pairs, map: map / pairs });
    }
  }
  for (const t of shards) await t.close();
  return { curve, bestP5: Math.max(...curve.map((c) => c.p5)) };
}

const results: Record<string, { shards: number; staleness: number; bestP5: number; curve: Point[] }> = {};
for (const k of shardCounts) {
  for (const staleness of k === 1 ? [stalenessSteps[0]] : stalenessSteps) {
    const r = await simulate(k, staleness);
    results[`${k}x${staleness}`] = { shards: k, staleness, ...r };
    process.stderr.write(`[scale-out] ${k} shards, sync every ${staleness} steps: best P@5 ${r.bestP5.toFixed(4)}\n`);
  }
}
const single = Object.values(results).find((r) => r.shards === 1);
// one thread's SGD rate: what a sync interval in steps means in time (a Kafka round trip is 10-100 ms)
const last = single?.curve[single.curve.length - 1];
const stepsPerSecond = last ? last.stepsPerShard / last.parallelSeconds : NaN;
const target = 0.99 * (single?.bestP5 ?? 0);
const summary = Object.fromEntries(
  Object.entries(results).map(([key, r]) => {
    const at = r.curve.find((c) => c.p5 >= target);
    const singleAt = single?.curve.find((c) => c.p5 >= target);
    return [
      key,
      {
        shards: r.shards,
        syncEverySteps: r.staleness,
        syncEveryMs: round((r.staleness / stepsPerSecond) * 1000),
        bestP5: round(r.bestP5),
        parallelSecondsToTarget: at ? round(at.parallelSeconds) : null,
        speedupVsOneTrainer: at && singleAt ? round(singleAt.parallelSeconds / at.parallelSeconds) : null,
      },
    ];
  }),
);
const result = {
  benchmark: 'scale-out-simulation',
  dataset: name,
  labels: allLabels.length,
  trainImages: split.train.length,
  heldOutPairs: heldOut.length,
  settings: { seed, dim, lr, totalSteps, evalEvery, sampler: 'auto', optimizer: 'adagrad', labelBias: true },
  stepsPerSecondOneThread: Math.round(stepsPerSecond),
  target: round(target),
  targetRule: "0.99 x one trainer's best held-out P@5; parallel seconds = the slowest shard's training time",
  summary,
  results,
  environment: runEnvironment(),
};
emitResult(result, args.get('out'));

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
