import type { AvroCodec } from '@freshet/avro';
import { ImageLabelModel, Rng } from '@freshet/core';
import { VseKernel, imageLabelConfig, vseSamplerSpec, type KernelShares, type WorkerPool } from '@freshet/kernels';
import type { Logger } from '@freshet/runtime';
import type { ConsumedRecord } from '@freshet/transport';
import type { Blob } from '../../trainer/checkpoint.js';
import { RowsSince } from '../../trainer/increments.js';
import type { DrainScope } from '../../trainer/policies.js';
import { decodeEvents, type AppliedBatch, type ChangedRows, type LearnerState, type ThreadedLearner } from '../../trainer/learner.js';
import { exportSampler, learnerMetrics } from '../../trainer/metrics.js';
import type { LearnerContext } from '../stream.js';
import type { ImageLabelEvent } from './normalise.js';
import { ImageEviction } from './eviction.js';
import { fullState, incrementState, mergeIncrement, type FullHeader } from './state.js';
import type { ImageLabelsSettings } from './settings.js';

/**
 * The image-label stream's learner: image events grow the vocabularies and positives (main
 * thread), their pairs and replay steps run in the WebAssembly kernel on the training threads.
 */
export class ImageLabelsLearner implements ThreadedLearner {
  readonly stream: string;
  readonly topic: string;
  readonly model: ImageLabelModel;
  readonly kernel: VseKernel;
  private threads: WorkerPool | null = null;
  private readonly codec: AvroCodec<ImageLabelEvent>;
  private readonly logger: Logger;
  private readonly opts: ImageLabelsSettings;
  private readonly m: ReturnType<typeof learnerMetrics>;
  /** rows added since the last drain: published even before SGD first moves them */
  private newImagesFrom = 0;
  private newLabelsFrom = 0;
  private republish = false;
  private readonly stalenessRng = new Rng(7);
  /** least-recently-seen eviction at the image cap (null: new images are refused there) */
  private readonly eviction: ImageEviction | null;
  /** rows changed since the last checkpoint export (an incremental checkpoint holds them) */
  private readonly imagesSince = new RowsSince();
  /** image rows new events named since the last drain (a fresh drain publishes these, not replay's) */
  private readonly freshImages = new RowsSince();
  /** image rows replay moved that a checkpoint held back (--replayed-rows-every): owed to the next full drain */
  private readonly owedImages = new RowsSince();
  private readonly labelsSince = new RowsSince();
  /** labels held at the last checkpoint export (labels only grow: an increment holds the new names) */
  private labelsAtExport = 0;

  constructor(ctx: LearnerContext<ImageLabelEvent, ImageLabelsSettings>) {
    const opts = ctx.settings;
    this.stream = ctx.stream;
    this.topic = ctx.topic;
    this.codec = ctx.codec;
    this.logger = ctx.logger;
    this.opts = opts;
    const config = imageLabelConfig(opts, { imageCap: opts.imageCap, labelCap: opts.labelCap });
    // the main thread creates the kernel (instance 0) and every worker attaches its own
    const sampler = vseSamplerSpec(opts, { asyncRefresh: opts.sampler === 'adaptive' });
    this.kernel = VseKernel.create({ config, pairCapacity: opts.replayCapacity, threads: ctx.threads + 1, trackChanges: true, sampler }, ctx.seed);
    this.model = new ImageLabelModel(config, new Rng(ctx.seed).fork(), this.kernel.storage);
    this.m = learnerMetrics(ctx.metrics, this.stream);
    this.eviction = opts.atImageCap === 'evict' ? new ImageEviction(this.model, this.kernel, Math.ceil(opts.evictBatch * opts.imageCap)) : null;
  }

  /** The training threads (started by the shell once every learner's kernel exists). */
  kernelShares(): KernelShares {
    return { vse: this.kernel.share() };
  }

  useThreads(threads: WorkerPool): void {
    this.threads = threads;
  }

  async apply(records: readonly ConsumedRecord[]): Promise<AppliedBatch> {
    const images: number[] = [];
    const labels: number[] = [];
    const weights: number[] = [];
    let weighted = false;
    const m = this.model;
    const batch = await decodeEvents(this.codec, records, this.logger, (e) => {
      const image = this.eviction !== null ? this.eviction.imageFor(e.imageId, e.eventTime) : m.imageId(e.imageId);
      // its positives and last-seen time change even when SGD leaves its row as it was
      if (image >= 0) {
        this.imagesSince.mark(image);
        this.freshImages.mark(image);
      }
      for (const name of e.labels) {
        const label = m.labelId(name);
        if (image < 0 || label < 0 || !m.addPositive(image, label)) continue;
        images.push(image);
        labels.push(label);
        weights.push(e.weight ?? 1);
        if (e.weight !== null && e.weight !== 1) weighted = true;
        this.kernel.remember(image, label);
      }
    });
    this.kernel.setSizes(this.model.labels.size, this.model.images.size);
    await this.train(images, labels, weighted ? weights : null, batch.applied * this.opts.replaySteps);
    return batch;
  }

  /** Splits the event pairs and the replay steps over the training threads and waits for all. */
  private async train(images: number[], labels: number[], weights: number[] | null, replay: number): Promise<void> {
    const threads = this.threads;
    if (threads === null) throw new Error('image-label learner: no training threads');
    const n = threads.size;
    const jobs: Array<Promise<void>> = [];
    for (let t = 0; t < n; t++) {
      const from = Math.floor((images.length * t) / n);
      const to = Math.floor((images.length * (t + 1)) / n);
      const list = this.kernel.listFor(threads.kernelThread(t));
      const count = Math.min(to - from, list.capacity);
      for (let j = 0; j < count; j++) {
        list.pairs[2 * j] = images[from + j];
        list.pairs[2 * j + 1] = labels[from + j];
        if (weights !== null) list.weights[j] = weights[from + j];
      }
      // pairs beyond a list's capacity (huge batches) are still remembered for replay
      const share = Math.floor((replay * (t + 1)) / n) - Math.floor((replay * t) / n);
      if (count > 0 || share > 0)
        jobs.push(
          threads.run(t, {
            kernel: 'vse',
            work: { list: { count, weighted: weights !== null, lr: this.opts.lr }, random: { steps: share, lr: this.opts.lr } },
          }),
        );
    }
    await Promise.all(jobs);
  }

  drainChanged(scope: DrainScope = 'all'): ChangedRows[] {
    const m = this.model;
    const imagesSize = m.images.size;
    const labelsSize = m.labels.size;
    const all = (size: number): Int32Array => Int32Array.from({ length: size }, (_, i) => i);
    const evicted = this.eviction?.drain() ?? { deleted: [], reused: [], freed: [] };
    const images = this.republish
      ? liveRows(m.images.allNames())
      : withRange(this.changedImages(scope, imagesSize), this.newImagesFrom, imagesSize, evicted.reused);
    const labels = this.republish ? all(labelsSize) : withRange(this.kernel.drainChanged('labels', labelsSize), this.newLabelsFrom, labelsSize);
    if (this.republish) {
      this.kernel.drainChanged('images', imagesSize);
      this.kernel.drainChanged('labels', labelsSize);
      this.freshImages.clear();
      this.owedImages.clear();
    }
    this.republish = false;
    this.newImagesFrom = imagesSize;
    this.newLabelsFrom = labelsSize;
    this.imagesSince.markAll(images);
    this.imagesSince.markAll(evicted.freed);
    this.labelsSince.markAll(labels);
    return [{ ...this.rows('IMAGE', images), deleted: evicted.deleted }, this.rows('LABEL', labels)];
  }

  /**
   * SGD-changed image rows: every one (with those held back before), or (fresh) those new events
   * named, whose flags are cleared so that the next full drain does not send them again; or
   * (hold-replayed, a checkpoint whose replayed rows are not due) the fresh ones, every changed
   * row marked for the increment and the rest owed to the next full drain.
   */
  private changedImages(scope: DrainScope, size: number): Int32Array {
    if (scope === 'all') {
      this.freshImages.clear();
      const changed = this.kernel.drainChanged('images', size);
      if (!this.owedImages.any) return changed;
      this.owedImages.markAll(changed);
      return this.owedImages.take(size);
    }
    if (scope === 'hold-replayed') {
      const fresh = this.freshImages.take(size);
      const changed = this.kernel.drainChanged('images', size);
      this.imagesSince.markAll(changed);
      this.owedImages.markAll(changed);
      this.owedImages.unmarkAll(fresh);
      return fresh;
    }
    const rows = this.freshImages.take(size);
    this.kernel.clearChanged('images', rows);
    return rows;
  }

  private rows(kind: 'IMAGE' | 'LABEL', changed: Int32Array): ChangedRows {
    const m = this.model;
    // a row freed by eviction and not taken again has nothing to publish (its name went as a deletion)
    const ids = kind === 'IMAGE' ? changed.filter((id) => m.images.allNames()[id] !== '') : changed;
    const dim = m.dim;
    const w = m.width;
    const source = kind === 'IMAGE' ? m.imageVectors.data : m.labelVectors.data;
    const vocab = kind === 'IMAGE' ? m.images : m.labels;
    const vectors = new Float32Array(ids.length * dim);
    const biases = kind === 'LABEL' && m.biasLane >= 0 ? new Float32Array(ids.length) : null;
    const names: string[] = new Array<string>(ids.length);
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      names[j] = vocab.allNames()[id];
      vectors.set(source.subarray(id * w, id * w + dim), j * dim);
      if (biases !== null) biases[j] = source[id * w + m.biasLane];
    }
    return { kind, dim, names, vectors, biases };
  }

  markAllChanged(): void {
    this.republish = true;
  }

  exportState(): LearnerState {
    this.imagesSince.clear();
    this.labelsSince.clear();
    this.labelsAtExport = this.model.labels.size;
    return fullState(this.model, this.eviction);
  }

  exportIncrement(): LearnerState {
    const m = this.model;
    const images = this.imagesSince.take(m.images.size);
    const labels = this.labelsSince.take(m.labels.size);
    const state = incrementState(m, this.eviction, images, labels, this.labelsAtExport);
    this.labelsAtExport = m.labels.size;
    return state;
  }

  mergeIncrement(base: LearnerState, increment: LearnerState): LearnerState {
    return mergeIncrement(base, increment);
  }

  importState(state: LearnerState): void {
    const h = state.header as unknown as FullHeader;
    const m = this.model;
    if (h.width !== m.width || h.dim !== m.dim || h.labelBias !== m.config.labelBias) {
      throw new Error(
        `the checkpoint's image-label model has dim ${h.dim}${h.labelBias ? ' with' : ' without'} label biases; this trainer is configured for dim ${m.dim}${m.config.labelBias ? ' with' : ' without'}: start it with the checkpoint's settings, or start fresh (freshet reset)`,
      );
    }
    const blob = <T extends Blob>(name: string): T => {
      const b = state.blobs[name];
      if (b === undefined) throw new Error(`checkpoint has no ${name}`);
      return b as T;
    };
    for (const name of h.labels) m.labelId(name);
    // the same rows for the same images (an evicted row stays free)
    m.restoreImages(h.images);
    this.eviction?.restore(state.blobs.imageLastSeen as Float64Array | undefined);
    m.labelVectors.data.set(blob<Float32Array>('labelVectors'));
    m.imageVectors.data.set(blob<Float32Array>('imageVectors'));
    if (m.imageAccumulators !== null && m.labelAccumulators !== null && state.blobs.imageAccumulators !== undefined) {
      m.imageAccumulators.data.set(blob<Float32Array>('imageAccumulators'));
      m.labelAccumulators.data.set(blob<Float32Array>('labelAccumulators'));
    }
    const counts = blob<Float64Array>('labelCounts');
    for (let a = 0; a < counts.length; a++) m.labels.increment(a, counts[a]);
    const starts = blob<Int32Array>('positivesStart');
    const flat = blob<Int32Array>('positivesFlat');
    for (let i = 0; i + 1 < starts.length; i++) {
      for (let j = starts[i]; j < starts[i + 1]; j++) {
        m.positives.add(i, flat[j]);
        this.kernel.remember(i, flat[j]);
      }
    }
    this.kernel.setSizes(m.labels.size, m.images.size);
  }

  exportMetrics(): void {
    this.m.staleness(() => this.kernel.staleness(4, this.stalenessRng));
    const m = this.model;
    const c = this.threads?.counters('vse') ?? null;
    const r = this.kernel.refreshStats;
    if (c !== null) exportSampler(this.m, this.opts.sampler, { ...c, refreshes: r.refreshes, refreshSeconds: r.seconds });
    this.m.vocabulary('image', m.images.live, m.images.refusedCount);
    if (this.eviction !== null) this.m.evicted('image', this.eviction.evictions);
    this.m.vocabulary('label', m.labels.size, m.labels.refusedCount);
    this.m.positivesRefused(m.positives.refused);
  }

  details(): Record<string, number> {
    const counts = this.model.labels.counts;
    let pairs = 0;
    for (let a = 0; a < counts.length; a++) pairs += counts[a];
    return { images: this.model.images.live, labels: this.model.labels.size, labelPairs: pairs, imagesEvicted: this.eviction?.evictions ?? 0 };
  }

  async close(): Promise<void> {
    await this.kernel.close();
  }
}

/** The changed ids, the rows new images took, and every id in [from, to) (new rows), ascending, without duplicates. */
function withRange(changed: Int32Array, from: number, to: number, reused: readonly number[] = []): Int32Array {
  const set = new Set<number>();
  for (const id of changed) if (id < from) set.add(id);
  for (const id of reused) if (id < from) set.add(id);
  const out = [...set].sort((a, b) => a - b);
  for (let id = from; id < to; id++) out.push(id);
  return Int32Array.from(out);
}

/** Every row that holds a name (evicted rows are free until taken). */
function liveRows(names: readonly string[]): Int32Array {
  const out: number[] = [];
  for (let id = 0; id < names.length; id++) if (names[id] !== '') out.push(id);
  return Int32Array.from(out);
}
