import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AvroCodec, vectorToBytes, type EmbeddingRecord, type EntityKind, type ImageLabelEvent, type TextWindowEvent } from '@freshet/avro';
import {
  DirtyRows,
  ImageLabelModel,
  type Matrix,
  Rng,
  SkipGramModel,
  SkipGramTrainer,
  createSampler,
  defaultImageLabelConfig,
  defaultSkipGramConfig,
  keepProbabilities,
  learningRate,
  type AdaptiveSampler,
  type NegativeSampler,
  type SamplerConfig,
  type ScheduleConfig,
} from '@freshet/core';
import { Counter, Gauge, Histogram, type Registry } from '@freshet/runtime';
import type { Batch, Consumer, OutgoingRecord, Producer, TopicPartition } from '@freshet/transport';
import { LagMonitor } from '../lag.js';
import { schemaTexts, type ProcessorWiring } from '../topics.js';
import { readCheckpoint, readCheckpointHeader, writeCheckpoint, type Blob } from './checkpoint.js';

export interface TrainerOptions extends ProcessorWiring {
  checkpointDir: string;
  checkpointEveryMs: number;
  seed: number;
  images: { dim: number; lr: number; reg: number; sampler: SamplerConfig; replaySteps: number; replayCapacity: number; imageCap: number; labelCap: number };
  words: { dim: number; window: number; negatives: number; sample: number; schedule: ScheduleConfig; sampler: SamplerConfig; vocabCap: number };
  /**
   * Called when a rebalance takes this instance's partitions away (another instance became the
   * owner after this one's session expired). The service exits: its model is now behind the
   * checkpoint the new owner writes, and a fresh start as a standby is the only safe state.
   */
  onOwnershipLost?: () => void;
}

const tpKey = (topic: string, partition: number): string => `${topic}#${partition}`;

/**
 * The trainer: consumes the training topics and applies online SGD to both models, growing their
 * vocabularies as new images, labels and words arrive. Rank tables are refreshed between batches
 * when due (never inside an SGD step). Every checkpointEveryMs it writes the model together with
 * the offsets it reflects, then commits those offsets; on restart it restores the checkpoint and
 * seeks to its offsets, so each event is applied exactly once to the model that survives a crash.
 *
 * The model cannot be split by partition, so the group is exclusive: one instance owns every
 * partition and trains; others stand by, and the one that inherits the partitions restores the
 * owner's last checkpoint (the checkpoint directory must be shared) before it applies anything.
 */
export class TrainerProcessor {
  readonly images: ImageLabelModel;
  readonly words: SkipGramModel;
  private imageSampler: NegativeSampler;
  private wordSampler: NegativeSampler;
  private wordTrainer: SkipGramTrainer;
  private readonly rng: Rng;
  private readonly stepRng: Rng;
  private replayImages: Int32Array;
  private replayLabels: Int32Array;
  private replayCount = 0;
  private replayNext = 0;
  private keep: Float32Array = new Float32Array(0);
  private keepVocab = 0;
  /** next offset to apply, per training partition */
  private readonly next = new Map<string, number>();
  private wordSteps = 0;
  private consumer: Consumer | null = null;
  private lastCheckpoint = Date.now();
  private appliedAtCheckpoint = 0;
  private checkpointing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lag: LagMonitor | null = null;
  /** sampler counters already exported (the metrics are counters; samplers keep totals) */
  private readonly exported = new Map<string, number>();
  private running = false;
  /** owns the training partitions (the active instance); false while standing by */
  private owner = false;
  private everOwned = false;
  /** this process, as named in the checkpoints it writes */
  private readonly instance = randomUUID();
  /**
   * The checkpoint file as this instance last saw it (restored or wrote): writer and sequence.
   * If the file has changed since, another instance became the owner: this one is fenced off.
   */
  private checkpointSeen: string | null = null;
  eventTimeHighWatermark = 0;
  applied = 0;
  private producer: Producer | null = null;
  private readonly wordDirty = new DirtyRows();
  /** checkpoints written (persisted): the version stamped on published updates */
  private sequence = 0;
  private readonly updateCodec: AvroCodec<EmbeddingRecord>;
  private readonly imageCodec: AvroCodec<ImageLabelEvent>;
  private readonly textCodec: AvroCodec<TextWindowEvent>;
  private readonly m: ReturnType<typeof trainerMetrics>;

  constructor(private readonly opts: TrainerOptions) {
    this.rng = new Rng(opts.seed);
    this.stepRng = this.rng.fork();
    const s = schemaTexts();
    this.imageCodec = new AvroCodec(opts.registry, `${opts.topics.trainImageLabels}-value`, s.imageLabel.text);
    this.textCodec = new AvroCodec(opts.registry, `${opts.topics.trainTextWindows}-value`, s.textWindow.text);
    this.updateCodec = new AvroCodec(opts.registry, `${opts.topics.modelUpdates}-value`, s.embedding.text);
    const i = opts.images;
    this.images = new ImageLabelModel({ ...defaultImageLabelConfig, dim: i.dim, reg: i.reg, imageCap: i.imageCap, labelCap: i.labelCap }, this.rng.fork());
    const w = opts.words;
    this.words = new SkipGramModel(
      { ...defaultSkipGramConfig, dim: w.dim, window: w.window, negatives: w.negatives, sample: w.sample, vocabCap: w.vocabCap, outputInit: w.sampler.kind === 'adaptive' ? 'noise' : 'zero' },
      this.rng.fork(),
    );
    this.imageSampler = createSampler({ ...i.sampler, autoRefresh: false, fallback: 'uniform' }, this.images.labelVectors, () => this.images.labels.counts, this.rng.fork());
    this.wordSampler = createSampler({ ...w.sampler, autoRefresh: false, fallback: 'popularity' }, this.words.output, () => this.words.vocab.counts, this.rng.fork());
    this.wordTrainer = new SkipGramTrainer(this.words, this.wordSampler, this.rng.fork());
    this.images.trackChanges();
    this.wordTrainer.dirty = this.wordDirty;
    this.replayImages = new Int32Array(i.replayCapacity);
    this.replayLabels = new Int32Array(i.replayCapacity);
    this.m = trainerMetrics(opts.metrics);
    for (const model of ['image-labels', 'words']) {
      this.m.fallbacks.inc({ model }, 0);
      this.m.rejections.inc({ model }, 0);
      this.m.mixed.inc({ model }, 0);
      this.m.updates.inc({ model }, 0);
    }
    for (const stream of ['image-labels', 'text-windows']) for (const outcome of ['applied', 'failed']) this.m.events.inc({ stream, outcome }, 0);
  }

  get checkpointPath(): string {
    return join(this.opts.checkpointDir, 'trainer.ckpt');
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** 'active' while this instance owns the partitions and trains, 'standby' otherwise. */
  get role(): 'active' | 'standby' {
    return this.owner ? 'active' : 'standby';
  }

  /** Joins the group; the instance that is given the partitions restores the last checkpoint and trains. */
  async start(): Promise<void> {
    this.producer = await this.opts.transport.producer();
    const t = this.opts.topics;
    this.consumer = await this.opts.transport.consumer({
      groupId: this.opts.groupId,
      topics: [t.trainImageLabels, t.trainTextWindows],
      fromBeginning: true,
      exclusive: true,
      onAssignment: (assigned) => this.assigned(assigned),
    });
    this.seekAssigned(this.consumer.assignment());
    this.running = true;
    this.lag = new LagMonitor(this.opts.transport, [t.trainImageLabels, t.trainTextWindows], () => this.next, this.opts.metrics);
    await this.lag.start();
    // when the stream pauses, the last events still reach a checkpoint and the publisher
    this.timer = setInterval(() => {
      if (this.applied > this.appliedAtCheckpoint && Date.now() - this.lastCheckpoint >= this.opts.checkpointEveryMs) {
        this.checkpoint().catch((err: unknown) => this.opts.logger.error({ err }, 'checkpoint failed'));
      }
    }, Math.min(1000, this.opts.checkpointEveryMs));
    this.timer.unref();
    void this.consumer
      .run((batch) => this.handle(batch))
      .catch((err: unknown) => {
        this.running = false;
        this.opts.logger.error({ err }, 'trainer consume loop failed');
      });
  }

  /**
   * Ownership changes. Becoming the owner for the first time restores the checkpoint (written by
   * this instance before a restart, or by the previous owner) into the still-untouched models.
   */
  private assigned(assigned: TopicPartition[]): void {
    const owns = assigned.length > 0;
    if (owns && !this.owner) {
      if (!this.everOwned) this.restore();
      this.owner = true;
      this.everOwned = true;
      this.m.active.set(1);
      this.opts.logger.info({ partitions: assigned.length }, 'trainer is the active instance');
    } else if (!owns && this.owner) {
      this.stepDown({}, 'trainer lost its partitions to another instance; its model is no longer the one to extend');
    }
    this.seekAssigned(assigned);
  }

  /** Stops being the owner (once): the service exits, to start again as a standby. */
  private stepDown(context: Record<string, unknown>, why: string): void {
    if (!this.owner) return;
    this.owner = false;
    this.m.active.set(0);
    this.opts.logger.error(context, why);
    this.opts.onOwnershipLost?.();
  }

  private seekAssigned(assigned: TopicPartition[]): void {
    for (const tp of assigned) {
      const next = this.next.get(tpKey(tp.topic, tp.partition));
      if (next !== undefined) this.consumer?.seek({ ...tp, offset: next });
    }
  }

  private async handle(batch: Batch): Promise<void> {
    if (!this.owner) return;
    const key = tpKey(batch.topic, batch.partition);
    const isImages = batch.topic === this.opts.topics.trainImageLabels;
    for (const record of batch.records) {
      // a record below the checkpointed position was applied before the crash: skip it
      if (record.offset < (this.next.get(key) ?? 0)) continue;
      try {
        if (isImages) this.applyImage((await this.imageCodec.decode(record.value)).value);
        else this.applyText((await this.textCodec.decode(record.value)).value);
      } catch (err) {
        // ingest validated these; a record that still fails is logged and skipped, never fatal
        this.m.events.inc({ stream: isImages ? 'image-labels' : 'text-windows', outcome: 'failed' });
        this.opts.logger.error({ err, topic: record.topic, partition: record.partition, offset: record.offset }, 'cannot apply training record');
      }
      this.next.set(key, record.offset + 1);
      this.applied++;
    }
    this.maintain();
    if (Date.now() - this.lastCheckpoint >= this.opts.checkpointEveryMs) await this.checkpoint();
  }

  applyImage(e: ImageLabelEvent): void {
    const imagesBefore = this.images.images.size;
    const labelsBefore = this.images.labels.size;
    const { image, labels } = this.images.observe(e.imageId, e.labels);
    // new entities are published even before SGD first moves them
    this.images.dirtyImages?.markRange(imagesBefore, this.images.images.size);
    this.images.dirtyLabels?.markRange(labelsBefore, this.images.labels.size);
    this.m.events.inc({ stream: 'image-labels', outcome: 'applied' });
    this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, e.eventTime);
    if (image < 0) return;
    const lr = this.opts.images.lr * (e.weight ?? 1);
    let updates = 0;
    let loss = 0;
    for (const label of labels) {
      if (label < 0) continue;
      this.remember(image, label);
      const l = this.images.step(image, label, this.imageSampler, lr);
      if (l > 0) {
        updates++;
        loss += l;
      }
    }
    // experience replay: a single pass over a stream learns little; revisiting recent pairs does
    for (let r = 0; r < this.opts.images.replaySteps && this.replayCount > 0; r++) {
      const p = this.stepRng.nextInt(this.replayCount);
      const l = this.images.step(this.replayImages[p], this.replayLabels[p], this.imageSampler, this.opts.images.lr);
      if (l > 0) {
        updates++;
        loss += l;
      }
    }
    this.m.updates.inc({ model: 'image-labels' }, updates);
    if (updates > 0) this.m.loss.set({ model: 'image-labels' }, loss / updates);
  }

  private remember(image: number, label: number): void {
    this.replayImages[this.replayNext] = image;
    this.replayLabels[this.replayNext] = label;
    this.replayNext = (this.replayNext + 1) % this.replayImages.length;
    this.replayCount = Math.min(this.replayCount + 1, this.replayImages.length);
  }

  applyText(e: TextWindowEvent): void {
    this.m.events.inc({ stream: 'text-windows', outcome: 'applied' });
    this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, e.eventTime);
    const ids = new Int32Array(e.tokens.length);
    const vocabBefore = this.words.vocab.size;
    for (let j = 0; j < e.tokens.length; j++) {
      const id = this.words.wordId(e.tokens[j]);
      ids[j] = id;
      if (id >= 0) this.words.vocab.increment(id);
    }
    this.wordDirty.markRange(vocabBefore, this.words.vocab.size);
    const pairsBefore = this.wordTrainer.pairs;
    const lossBefore = this.wordTrainer.lossSum;
    const lr = learningRate(this.opts.words.schedule, this.wordSteps);
    this.wordSteps += this.wordTrainer.trainSequence(ids, 0, ids.length, lr, this.words.config.sample > 0 ? this.keep : null);
    const pairs = this.wordTrainer.pairs - pairsBefore;
    this.m.updates.inc({ model: 'words' }, pairs);
    if (pairs > 0) this.m.loss.set({ model: 'words' }, (this.wordTrainer.lossSum - lossBefore) / pairs);
  }

  /** Between batches: subsampling probabilities, rank tables and metrics follow the growing vocabularies. */
  private maintain(): void {
    const vocab = this.words.vocab.size;
    if (vocab > 0 && (vocab > this.keepVocab * 1.05 || this.keepVocab === 0)) {
      this.keep = keepProbabilities(this.words.vocab.counts, this.words.config.sample);
      this.keepVocab = vocab;
    }
    for (const [model, sampler] of [['image-labels', this.imageSampler], ['words', this.wordSampler]] as const) {
      const adaptive = sampler.kind === 'adaptive' ? (sampler as AdaptiveSampler) : null;
      if (adaptive && adaptive.refreshDue && (model === 'words' ? this.words.vocab.size : this.images.labels.size) > 1) {
        this.m.staleness.set({ model }, adaptive.staleness(4));
        const t0 = performance.now();
        adaptive.refresh();
        this.m.refreshSeconds.observe({ model }, (performance.now() - t0) / 1000);
      }
      const s = sampler.stats;
      this.m.draws.inc({ model, sampler: sampler.kind }, this.delta(`${model}.draws`, s.draws));
      this.m.fallbacks.inc({ model }, this.delta(`${model}.fallbacks`, s.fallbacks));
      this.m.rejections.inc({ model }, this.delta(`${model}.rejections`, s.rejections));
      this.m.mixed.inc({ model }, this.delta(`${model}.mixed`, s.mixed));
    }
    this.m.vocabulary.set({ kind: 'image' }, this.images.images.size);
    this.m.vocabulary.set({ kind: 'label' }, this.images.labels.size);
    this.m.vocabulary.set({ kind: 'word' }, this.words.vocab.size);
    this.m.refused.set({ kind: 'image' }, this.images.images.refusedCount);
    this.m.refused.set({ kind: 'label' }, this.images.labels.refusedCount);
    this.m.refused.set({ kind: 'word' }, this.words.vocab.refusedCount);
    if (this.eventTimeHighWatermark > 0) this.m.eventTime.set(this.eventTimeHighWatermark / 1000);
  }

  private delta(key: string, total: number): number {
    const before = this.exported.get(key) ?? 0;
    this.exported.set(key, total);
    return Math.max(0, total - before);
  }

  /**
   * Writes model + offsets atomically, publishes the changed rows, then commits the offsets to
   * the group. The checkpoint is what a restart trusts; committed offsets serve lag monitoring
   * (so a final checkpoint after the consumer has left skips the commit).
   */
  checkpoint(options: { commit?: boolean } = {}): Promise<void> {
    this.checkpointing ??= this.writeAll(options).finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }

  private async writeAll(options: { commit?: boolean }): Promise<void> {
    // a standby never wrote the model it holds: writing it would overwrite the owner's checkpoint
    if (!this.owner) return;
    // fencing: an owner paused past its session (GC, frozen VM) may not know yet that a standby
    // took over and checkpointed; its stale model must not overwrite the new owner's. Checked
    // before the work and again just before the rename.
    if (!this.checkpointStillOurs()) return;
    const t0 = performance.now();
    const appliedNow = this.applied;
    const img = this.images;
    const n = img.images.size;
    const starts = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) starts[i + 1] = starts[i] + img.positivesOf(i).length;
    const flat = new Int32Array(starts[n]);
    for (let i = 0; i < n; i++) flat.set(img.positivesOf(i), starts[i]);
    const rows = (m: Matrix, count: number): Float32Array => m.data.subarray(0, count * m.cols);
    const offsets = [...this.next].map(([k, offset]) => {
      const at = k.lastIndexOf('#');
      return { topic: k.slice(0, at), partition: Number(k.slice(at + 1)), offset };
    });
    const header = {
      format: 1,
      createdAt: Date.now(),
      offsets,
      eventTimeHighWatermark: this.eventTimeHighWatermark,
      wordSteps: this.wordSteps,
      images: img.images.allNames(),
      labels: img.labels.allNames(),
      words: this.words.vocab.allNames(),
      imageDim: img.dim,
      wordDim: this.words.config.dim,
    };
    const blobs: Record<string, Blob> = {
      imageVectors: rows(img.imageVectors, n),
      labelVectors: rows(img.labelVectors, img.labels.size),
      labelCounts: Float64Array.from(img.labels.counts),
      positivesFlat: flat,
      positivesStart: starts,
      wordInput: rows(this.words.input, this.words.vocab.size),
      wordOutput: rows(this.words.output, this.words.vocab.size),
      wordCounts: Float64Array.from(this.words.vocab.counts),
    };
    this.sequence++;
    const bytes = writeCheckpoint(this.checkpointPath, { ...header, sequence: this.sequence, instance: this.instance }, blobs, () => this.checkpointStillOurs());
    if (bytes < 0) return;
    this.checkpointSeen = checkpointIdentity({ sequence: this.sequence, instance: this.instance });
    const published = await this.publishUpdates();
    if (options.commit !== false) await this.consumer?.commit(offsets);
    this.lastCheckpoint = Date.now();
    this.appliedAtCheckpoint = appliedNow;
    this.m.checkpointSeconds.observe((performance.now() - t0) / 1000);
    this.m.checkpointBytes.set(bytes);
    this.opts.logger.info({ bytes, published, offsets: offsets.length, images: n, labels: img.labels.size, words: this.words.vocab.size }, 'checkpoint written');
  }

  /**
   * True while the checkpoint file is the one this instance last restored or wrote. Otherwise
   * another instance has written it since, so it is the owner: this one steps down (once).
   */
  private checkpointStillOurs(): boolean {
    const onDisk = checkpointIdentity(readCheckpointHeader(this.checkpointPath));
    if (onDisk === this.checkpointSeen) return true;
    this.stepDown({ onDisk, expected: this.checkpointSeen }, 'another trainer wrote the checkpoint since this one last did: it is the owner now; stepping down without writing');
    return false;
  }

  /**
   * Sends every row changed since the last checkpoint to the model-updates topic (the publisher's
   * input), keyed '<KIND>:<id>', stamped with the checkpoint sequence and the event-time high
   * watermark. Sent after the checkpoint is durable and before offsets are committed.
   */
  private async publishUpdates(): Promise<number> {
    if (!this.producer) return 0;
    const img = this.images;
    const groups: Array<[EntityKind, Int32Array, (id: number) => string, Float32Array, number]> = [
      ['IMAGE', img.dirtyImages?.drain() ?? new Int32Array(0), (id) => img.images.nameOf(id), img.imageVectors.data, img.dim],
      ['LABEL', img.dirtyLabels?.drain() ?? new Int32Array(0), (id) => img.labels.nameOf(id), img.labelVectors.data, img.dim],
      ['WORD', this.wordDirty.drain(), (id) => this.words.vocab.nameOf(id), this.words.input.data, this.words.config.dim],
    ];
    let sent = 0;
    for (const [kind, ids, name, data, dim] of groups) {
      for (let start = 0; start < ids.length; start += 500) {
        const batch: OutgoingRecord[] = [];
        for (const id of ids.subarray(start, start + 500)) {
          const entity = name(id);
          batch.push({
            key: Buffer.from(`${kind}:${entity}`),
            value: await this.updateCodec.encode({ kind, id: entity, dim, vector: vectorToBytes(data.subarray(id * dim, (id + 1) * dim)), version: this.sequence, updatedAt: this.eventTimeHighWatermark }),
          });
        }
        await this.producer.send(this.opts.topics.modelUpdates, batch);
        sent += batch.length;
      }
    }
    this.m.published.inc(sent);
    return sent;
  }

  private restore(): void {
    const ck = readCheckpoint(this.checkpointPath);
    this.checkpointSeen = checkpointIdentity(ck?.header ?? null);
    if (!ck) return;
    const h = ck.header as { offsets: Array<{ topic: string; partition: number; offset: number }>; images: string[]; labels: string[]; words: string[]; eventTimeHighWatermark: number; wordSteps: number };
    const blob = <T extends Blob>(name: string): T => {
      const b = ck.blobs.get(name);
      if (!b) throw new Error(`checkpoint ${this.checkpointPath} has no ${name}`);
      return b as T;
    };
    const img = this.images;
    for (const name of h.labels) img.labelId(name);
    for (const name of h.images) img.imageId(name);
    img.labelVectors.data.set(blob<Float32Array>('labelVectors'));
    img.imageVectors.data.set(blob<Float32Array>('imageVectors'));
    const counts = blob<Float64Array>('labelCounts');
    for (let a = 0; a < counts.length; a++) img.labels.increment(a, counts[a]);
    const starts = blob<Int32Array>('positivesStart');
    const flat = blob<Int32Array>('positivesFlat');
    for (let i = 0; i + 1 < starts.length; i++) {
      const list = flat.slice(starts[i], starts[i + 1]);
      img.setPositives(i, list);
      for (const label of list) this.remember(i, label);
    }
    for (const w of h.words) this.words.wordId(w);
    this.words.input.data.set(blob<Float32Array>('wordInput'));
    this.words.output.data.set(blob<Float32Array>('wordOutput'));
    const wc = blob<Float64Array>('wordCounts');
    for (let a = 0; a < wc.length; a++) this.words.vocab.increment(a, wc[a]);
    for (const o of h.offsets) this.next.set(tpKey(o.topic, o.partition), o.offset);
    this.eventTimeHighWatermark = h.eventTimeHighWatermark;
    this.wordSteps = h.wordSteps;
    this.sequence = (ck.header as { sequence?: number }).sequence ?? 0;
    // updates sent after the checkpoint may have been lost with the crash: send everything again
    img.dirtyImages?.markRange(0, img.images.size);
    img.dirtyLabels?.markRange(0, img.labels.size);
    this.wordDirty.markRange(0, this.words.vocab.size);
    this.opts.logger.info({ path: this.checkpointPath, images: h.images.length, labels: h.labels.length, words: h.words.length, offsets: h.offsets }, 'restored checkpoint');
  }

  async stop(options: { checkpoint?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.lag?.stop();
    await this.checkpointing;
    await this.consumer?.close();
    if (options.checkpoint !== false) await this.checkpoint({ commit: false });
    await this.producer?.close();
  }
}

/** Which write of which instance a checkpoint header records (null: no checkpoint). */
function checkpointIdentity(header: Record<string, unknown> | null): string | null {
  if (header === null) return null;
  return `${String(header.instance ?? 'unknown')}#${String(header.sequence ?? 0)}`;
}

function trainerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({ name: 'freshet_trainer_events_total', help: 'Training records consumed, by stream and outcome.', labelNames: ['stream', 'outcome'], registers }),
    updates: new Counter({ name: 'freshet_trainer_sgd_updates_total', help: 'SGD updates applied (image-label steps with an active hinge; skip-gram pairs).', labelNames: ['model'], registers }),
    loss: new Gauge({ name: 'freshet_trainer_loss', help: 'Mean loss of the last batch of updates (hinge for image-labels, negative-sampling log loss for words).', labelNames: ['model'], registers }),
    draws: new Counter({ name: 'freshet_sampler_draws_total', help: 'Negative draws.', labelNames: ['model', 'sampler'], registers }),
    fallbacks: new Counter({ name: 'freshet_sampler_fallbacks_total', help: 'Adaptive draws that fell back to the fallback sampler after maxRetries rejections.', labelNames: ['model'], registers }),
    rejections: new Counter({ name: 'freshet_sampler_rejections_total', help: 'Candidate negatives rejected as positives and redrawn.', labelNames: ['model'], registers }),
    mixed: new Counter({ name: 'freshet_sampler_mixed_draws_total', help: 'Draws taken from the mixed-in fallback share or for rows added since the last refresh.', labelNames: ['model'], registers }),
    refreshSeconds: new Histogram({ name: 'freshet_rank_table_refresh_duration_seconds', help: 'Time to rebuild the rank tables.', labelNames: ['model'], buckets: [0.0005, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3], registers }),
    staleness: new Gauge({ name: 'freshet_rank_table_staleness_ratio', help: 'Share of adjacent rank-table pairs out of order just before a refresh.', labelNames: ['model'], registers }),
    vocabulary: new Gauge({ name: 'freshet_vocabulary_size', help: 'Entities with a vector, by kind.', labelNames: ['kind'], registers }),
    refused: new Gauge({ name: 'freshet_vocabulary_refused', help: 'Names refused because the vocabulary cap was reached, since start.', labelNames: ['kind'], registers }),
    checkpointSeconds: new Histogram({ name: 'freshet_checkpoint_duration_seconds', help: 'Time to write a checkpoint.', buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10], registers }),
    active: new Gauge({ name: 'freshet_trainer_active', help: '1 while this instance owns the training partitions and trains, 0 while it stands by.', registers }),
    checkpointBytes: new Gauge({ name: 'freshet_checkpoint_size_bytes', help: 'Size of the last checkpoint.', registers }),
    published: new Counter({ name: 'freshet_trainer_updates_published_total', help: 'Changed vectors sent to the model-updates topic.', registers }),
    eventTime: new Gauge({ name: 'freshet_trainer_event_time_high_watermark_seconds', help: 'Latest event time applied to the model (unix seconds).', registers }),
  };
}
