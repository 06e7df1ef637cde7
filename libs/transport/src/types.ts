/**
 * The transport our services speak: a deliberately small subset of Kafka's model (topics of
 * partitions, keyed records, consumer groups with committed offsets) that both the Kafka client
 * and the in-memory embedded transport implement, and that one contract test suite checks.
 * Keeping kafkajs behind it means another client (e.g. @platformatic/kafka) can replace it.
 */
export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** explicit partition; otherwise by key hash (murmur2, as Kafka's Java client), or round robin for null keys */
  partition?: number;
  headers?: Record<string, string>;
  timestamp?: number;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** An offset to commit: the next offset to read (Kafka's convention), i.e. last processed + 1. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
  /** a short note kept with a commit (Kafka's offset metadata, at most a few KiB): ingest keeps the raw log's epoch there */
  metadata?: string;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** log compaction: keep the latest record per key (the latest-vector topic) */
  compacted?: boolean;
  /** largest record in bytes the topic accepts */
  maxMessageBytes?: number;
}

export interface Producer {
  send(topic: string, records: OutgoingRecord[]): Promise<Array<{ partition: number; offset: number }>>;
  close(): Promise<void>;
}

export interface Batch {
  topic: string;
  partition: number;
  /** may be empty: a batch of transaction markers (or aborted records) only moves the position */
  records: ConsumedRecord[];
  /**
   * The offset after this batch: past its last record and past any transaction markers or aborted
   * records behind it. The offset to commit once the batch is done (the last record + 1 would
   * leave a marker behind, and the lag would never reach 0).
   */
  nextOffset: number;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** where a group without a committed offset starts (default: earliest) */
  fromBeginning?: boolean;
  /** called when this member's partitions change (after a rebalance) */
  onAssignment?: (assigned: TopicPartition[]) => void;
  /**
   * Active/standby instead of sharing: the oldest member of the group owns every partition and
   * the others own none until it leaves. For consumers whose state cannot be split by partition
   * (the trainer's model, the publisher's snapshot): a second instance is a warm standby.
   */
  exclusive?: boolean;
  /**
   * A batch whose handler keeps failing is retried (with backoff, `retries` times), then the
   * consumer restarts from its last commit, at most `maxRestarts` times in a row; after that
   * run() rejects and state().up is false, so the service exits instead of living on without
   * consuming. Defaults: 10 retries, 5 restarts.
   */
  retries?: number;
  maxRestarts?: number;
}

/** What a consumer knows about its own health (readiness, metrics, alerts read it). */
export interface ConsumerState {
  /** consuming: joined, not crashed, not stopped */
  up: boolean;
  /** group (re)joins since start: a steady member has 1 */
  rebalances: number;
  /** crashes the client recovered from by restarting (each is logged) */
  restarts: number;
  /** when the member last heartbeated or finished a batch (ms; 0: never) */
  lastContact: number;
  /** why it stopped for good, if it did */
  failure: string | null;
}

export interface Consumer {
  /**
   * Delivers batches in partition order, one batch per partition at a time, until close().
   * Offsets are never committed automatically: call commit() when the work they carry is safe.
   * Resolves after close(); rejects when the consumer stops for good for any other reason (a
   * crash the client does not recover from, a member that left its group): never a consumer
   * that silently does nothing.
   */
  run(handler: (batch: Batch) => Promise<void>): Promise<void>;
  /** Its health now. */
  state(): ConsumerState;
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Moves the read position of an assigned partition (restoring from a checkpoint). */
  seek(position: TopicPartitionOffset): void;
  assignment(): TopicPartition[];
  close(): Promise<void>;
}

export interface Admin {
  createTopics(specs: TopicSpec[]): Promise<void>;
  /** Committed offsets of a group for a topic, with their metadata (-1 where nothing is committed). */
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  /** Latest offsets (the offset the next record will get) per partition. */
  endOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  /** Earliest offsets still in the log per partition (retention and compaction move them up). */
  startOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  /** The cluster's id: a checkpoint made on another cluster holds offsets of another log. */
  clusterId(): Promise<string>;
  /** The topics the cluster holds (internal ones left out). */
  listTopics(): Promise<string[]>;
  /** Deletes a consumer group and its committed offsets (the group must have no members). */
  deleteGroup(groupId: string): Promise<void>;
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): Promise<Consumer>;
  admin(): Promise<Admin>;
}
