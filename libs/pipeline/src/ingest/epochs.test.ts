import { describe, expect, it } from 'vitest';
import type { ConsumedRecord, TopicPartitionOffset } from '@freshet/transport';
import { LogEpochs, epochMetadata, epochOf, parseEpochMetadata, type NewLog } from './epochs.js';

function rec(offset: number, value = `v${offset}`, timestamp = 1000 + offset): ConsumedRecord {
  return { topic: 'raw', partition: 0, offset, key: null, value: Buffer.from(value), headers: {}, timestamp };
}

function epochs(committed: TopicPartitionOffset[] = []): { e: LogEpochs; changes: NewLog[] } {
  const changes: NewLog[] = [];
  return {
    e: new LogEpochs(
      async () => committed,
      (c) => changes.push(c),
    ),
    changes,
  };
}

describe('raw log epochs', () => {
  it('continues the epoch of the group commit, and hands it on in the commit metadata', async () => {
    const { e, changes } = epochs([{ topic: 'raw', partition: 0, offset: 40, metadata: epochMetadata('abc') }]);
    expect(await e.of('raw', 0, rec(40))).toBe('abc');
    e.advanced('raw', 0, 50);
    expect(await e.of('raw', 0, rec(50))).toBe('abc');
    expect(parseEpochMetadata(e.metadata('raw', 0))).toBe('abc');
    // past the commit (retention deleted the records at it, or markers): still the same log
    const later = epochs([{ topic: 'raw', partition: 0, offset: 40, metadata: epochMetadata('abc') }]);
    expect(await later.e.of('raw', 0, rec(90))).toBe('abc');
    expect(changes).toEqual([]);
  });

  it('starts a log without a commit at the epoch of its first record, the same for every instance', async () => {
    const a = epochs();
    const b = epochs([{ topic: 'raw', partition: 0, offset: -1 }]);
    expect(await a.e.of('raw', 0, rec(0))).toBe(epochOf(rec(0)));
    expect(await b.e.of('raw', 0, rec(0))).toBe(await a.e.of('raw', 0, rec(0)));
    expect(epochOf(rec(0, 'other'))).not.toBe(epochOf(rec(0)));
    expect(a.changes).toEqual([]);
    // a commit without our metadata (offsets reset by hand, or an ingest before epochs) starts a new one
    const hand = epochs([{ topic: 'raw', partition: 0, offset: 0 }]);
    expect(await hand.e.of('raw', 0, rec(0))).not.toBe(await a.e.of('raw', 0, rec(0)));
    const again = epochs([{ topic: 'raw', partition: 0, offset: 0 }]);
    expect(await again.e.of('raw', 0, rec(0))).toBe(await hand.e.of('raw', 0, rec(0)));
  });

  it('a log that goes back below where it was read, or below the commit, is a new epoch, and says so', async () => {
    const { e, changes } = epochs();
    const first = await e.of('raw', 0, rec(0));
    e.advanced('raw', 0, 100);
    // the topic was deleted and created again: offsets start over, timestamps may be anything
    const again = await e.of('raw', 0, rec(0, 'new log', 5));
    expect(again).not.toBe(first);
    expect(changes).toEqual([{ topic: 'raw', partition: 0, previous: first, epoch: again, reason: 'went-back', expected: 100, found: 0 }]);
    const c = epochs([{ topic: 'raw', partition: 0, offset: 500, metadata: epochMetadata('old') }]);
    const fresh = await c.e.of('raw', 0, rec(3));
    expect(fresh).not.toBe('old');
    expect(c.changes).toMatchObject([{ previous: 'old', epoch: fresh, reason: 'below-commit', expected: 500, found: 3 }]);
  });

  it('forgets partitions it no longer owns: their epoch is read again from the commit when they come back', async () => {
    let committed: TopicPartitionOffset[] = [];
    const changes: NewLog[] = [];
    const e = new LogEpochs(
      async () => committed,
      (c) => changes.push(c),
    );
    const mine = await e.of('raw', 0, rec(0));
    e.advanced('raw', 0, 10);
    e.assigned([]);
    // another instance moved it on meanwhile, in the same epoch
    committed = [{ topic: 'raw', partition: 0, offset: 60, metadata: epochMetadata(mine) }];
    expect(await e.of('raw', 0, rec(60))).toBe(mine);
    expect(changes).toEqual([]);
  });
});
