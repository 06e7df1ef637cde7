import type { Kafka } from 'kafkajs';
import type { TopicSpec } from './types.js';

/**
 * Creates the topics that do not exist, safe when several instances start at once on a new
 * cluster: one wins the creation, the others see TOPIC_ALREADY_EXISTS or briefly a topic whose
 * partitions have no leader yet ("This server does not host this topic-partition"). Both are
 * retried until every topic has leaders, so no instance crashes on the race.
 */
export async function createTopicsIdempotent(admin: ReturnType<Kafka['admin']>, specs: TopicSpec[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const todo = specs.filter((s) => !existing.has(s.topic));
      if (todo.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: todo.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor: -1,
            configEntries: [
              ...(s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
              ...(s.maxMessageBytes !== undefined ? [{ name: 'max.message.bytes', value: String(s.maxMessageBytes) }] : []),
            ],
          })),
        });
      }
      // every partition has a leader before anyone produces or joins a group
      const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      throw new Error('topic partitions without a leader yet');
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
  }
}
