import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { commonOptions } from '@freshet/pipeline';
import { bool, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { connectKafka } from './kafka.js';
import { TransportError } from '@freshet/transport';

export const resetOptions: OptionSpec[] = [
  ...commonOptions.filter((o) => !o.name.startsWith('http-') && o.name !== 'partitions' && o.name !== 'producer-compression'),
  { name: 'checkpoint-dir', kind: 'string', env: 'FRESHET_CHECKPOINT_DIR', help: "the trainer's checkpoint folder: its checkpoint files are removed" },
  {
    name: 'groups',
    kind: 'list',
    default: 'freshet-ingest,freshet-trainer,freshet-publisher',
    help: 'consumer groups to delete (the topic prefix is put in front, as the services do)',
  },
  { name: 'yes', kind: 'boolean', default: false, help: 'really do it (without it, only say what would be removed)' },
];

/** The trainer's checkpoint, the previous ones it keeps (`.1`, `.2`, ...), half-written ones (all of them would be restored) and the folder's owner. */
const CHECKPOINT_FILE = /^trainer\.(ckpt(\.\d+|\.tmp-.*)?|owner)$/;

/**
 * Starts a deployment fresh: removes the trainer's checkpoints and deletes the consumer groups of
 * a topic prefix (their committed offsets), so the next start trains from the earliest offsets
 * with an empty model. Stop the services first: Kafka refuses to delete a group with members.
 * Topics and their records stay (delete them with Kafka's tools if they should go too).
 */
export async function reset(v: OptionValues): Promise<Record<string, unknown>> {
  const prefix = str(v, 'topic-prefix') ?? '';
  const groups = (v.get('groups') as string[]).map((g) => `${prefix}${g}`);
  const dir = str(v, 'checkpoint-dir');
  const files = dir !== undefined && existsSync(dir) ? readdirSync(dir).filter((f) => CHECKPOINT_FILE.test(f)) : [];
  const doIt = bool(v, 'yes');
  if (!doIt) {
    return {
      command: 'reset',
      dryRun: true,
      wouldDelete: { groups, checkpoints: files.map((f) => join(dir ?? '', f)) },
      hint: 'run again with --yes (services stopped)',
    };
  }
  const { transport } = await connectKafka(v, 'reset');
  const admin = await transport.admin();
  const deleted: string[] = [];
  const absent: string[] = [];
  try {
    for (const g of groups) {
      try {
        await admin.deleteGroup(g);
        deleted.push(g);
      } catch (err) {
        const code = err instanceof TransportError ? err.code : 'UNKNOWN';
        if (code === 'GROUP_NOT_FOUND') absent.push(g);
        else if (code === 'GROUP_NOT_EMPTY') throw new Error(`consumer group ${g} still has members: stop its services first, then run reset again`);
        else throw new Error(`could not delete consumer group ${g}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await admin.close();
  }
  for (const f of files) rmSync(join(dir ?? '', f), { force: true });
  return { command: 'reset', groupsDeleted: deleted, groupsAbsent: absent, checkpointsRemoved: files.map((f) => join(dir ?? '', f)) };
}
