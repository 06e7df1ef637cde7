import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * A Kafka partition assigner for active/standby groups: every partition of every subscribed topic
 * goes to one member, the one that joined first (its join time travels in the subscription's user
 * data), so a standby that joins later never takes work from a running owner. When the owner
 * leaves or its session expires, the next oldest member receives everything.
 */
export function exclusiveAssigner(joinedAt: number): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'FreshetExclusiveAssigner',
    version: 1,
    async assign({ members, topics }) {
      const joined = (metadata: Buffer): number => {
        const data = AssignerProtocol.MemberMetadata.decode(metadata)?.userData;
        return data && data.length >= 8 ? data.readDoubleBE(0) : Number.MAX_VALUE;
      };
      const ordered = members.map((m) => ({ memberId: m.memberId, joinedAt: joined(m.memberMetadata) })).sort((a, b) => a.joinedAt - b.joinedAt || a.memberId.localeCompare(b.memberId));
      const owner = ordered[0]?.memberId;
      const all: Record<string, number[]> = {};
      for (const topic of topics) all[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      // standbys get an explicit empty assignment rather than none, so they learn they are standbys
      return ordered.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: memberId === owner ? all : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      const userData = Buffer.alloc(8);
      userData.writeDoubleBE(joinedAt, 0);
      return { name: 'FreshetExclusiveAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }) };
    },
  });
}
