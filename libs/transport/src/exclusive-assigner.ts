import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** What a member of an exclusive group tells the group leader about itself at every join. */
export interface ExclusiveMemberState {
  /** when this consumer was created (ms) */
  joinedAt: number;
  /** when it last became the owner (ms), 0 while it owns nothing */
  ownedSince: number;
}

/**
 * A Kafka partition assigner for active/standby groups: every partition of every subscribed topic
 * goes to one member. Preference: the member that became the owner most recently, then the one
 * that joined first. So a standby that joins never takes work from a running owner, and an owner
 * that was paused past its session (a long GC, a frozen VM) and comes back finds that the standby
 * which took over in the meantime keeps the partitions: the stale one is the one to step down.
 * Join time and ownership travel in the subscription's user data (two big-endian doubles).
 */
export function exclusiveAssigner(self: ExclusiveMemberState): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'FreshetExclusiveAssigner',
    version: 1,
    async assign({ members, topics }) {
      const decode = (metadata: Buffer): ExclusiveMemberState => {
        const data = AssignerProtocol.MemberMetadata.decode(metadata)?.userData;
        return data && data.length >= 16 ? { joinedAt: data.readDoubleBE(0), ownedSince: data.readDoubleBE(8) } : { joinedAt: Number.MAX_VALUE, ownedSince: 0 };
      };
      const ordered = members
        .map((m) => ({ memberId: m.memberId, ...decode(m.memberMetadata) }))
        .sort((a, b) => b.ownedSince - a.ownedSince || a.joinedAt - b.joinedAt || a.memberId.localeCompare(b.memberId));
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
      const userData = Buffer.alloc(16);
      userData.writeDoubleBE(self.joinedAt, 0);
      userData.writeDoubleBE(self.ownedSince, 8);
      return { name: 'FreshetExclusiveAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }) };
    },
  });
}
