import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './services.js';

/**
 * The README's first quick-start command, `npm run demo`, is the embedded pipeline (no Kafka):
 * run what it runs and check its last line, so the quick start cannot silently break.
 */
describe('quick start', () => {
  it('the streaming demo runs end to end on the embedded default and learns', { timeout: 300_000 }, async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'tools', 'cli', 'dist', 'main.js'), 'demo', '--http-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, out.slice(-3000)).toBe(0);
    const last = out.trim().split('\n').pop() ?? '';
    const result = JSON.parse(last) as {
      events: number;
      heldOutP5OverTime: Array<[number, number]>;
      finalP5: number;
      snapshotVersion: number | null;
      neighbours: Record<string, string[]>;
      served: { whale: string[]; sameAsSnapshot: boolean };
      zeroShot: { label: string; marked: boolean; images: number; labels: number; medianRank: number | null };
    };
    expect(result.events).toBeGreaterThan(70_000);
    // it learns from the stream: held-out P@5 never falls from the first report to the last and
    // ends at about four times chance (one held-out label among 38: P@5 by chance is 1/38)
    expect(result.heldOutP5OverTime.length).toBeGreaterThan(0);
    expect(result.finalP5).toBeGreaterThanOrEqual(result.heldOutP5OverTime[0][1]);
    expect(result.finalP5).toBeGreaterThan(0.1);
    expect(result.snapshotVersion).not.toBeNull();
    expect(result.neighbours.whale).toHaveLength(6);
    // the query service answers over HTTP what the snapshot reader answers
    expect(result.served.whale).toEqual(result.neighbours.whale);
    expect(result.served.sameAsSnapshot).toBe(true);
    // a label no image event carried is in the snapshot, marked zero-shot, and ranked for the images that have it
    expect(result.zeroShot.label).toBe('sunset');
    expect(result.zeroShot.marked).toBe(true);
    expect(result.zeroShot.images).toBeGreaterThan(1000);
    expect(result.zeroShot.labels).toBe(38);
    expect(result.zeroShot.medianRank).toBeGreaterThanOrEqual(1);
  });
});
