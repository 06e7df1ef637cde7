import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFile } from '@freshet/datasets';
import { repoRoot } from './services.js';

const cli = join(repoRoot, 'tools', 'cli', 'dist', 'main.js');
const service = (name: string): string => join(repoRoot, 'services', name, 'dist', 'main.js');
const empty = join(mkdtempSync(join(tmpdir(), 'freshet-empty-')), 'empty.tsv');
writeFileSync(empty, '');

let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => {
  busy.close();
});

/**
 * Bad invocations of the CLI and the services: each exits non-zero with one line on stderr that
 * names what is wrong (the option, the file, the port), never a stack trace.
 */
describe('bad invocations get one line naming the problem', () => {
  const cases: Array<{ what: string; script: () => string; args: string[]; env?: Record<string, string>; message: RegExp }> = [
    {
      what: 'a negative time budget',
      script: () => cli,
      args: ['train-images', '--train', dataFile('corel5k-mulan', 'train.tsv'), '--seconds', '-1'],
      message: /--seconds must be greater than 0/,
    },
    { what: 'a negative learning rate', script: () => cli, args: ['train-images', '--lr', '-1'], message: /--lr must be greater than 0/ },
    { what: 'a zero dimension', script: () => cli, args: ['train-images', '--dim', '0'], message: /--dim must be at least 1/ },
    { what: 'negative epochs', script: () => cli, args: ['train-words', '--epochs', '-1'], message: /--epochs must be at least 1/ },
    { what: 'a fractional thread count', script: () => cli, args: ['train-words', '--threads', '1.5'], message: /--threads must be a whole number/ },
    { what: 'negative synthetic images', script: () => cli, args: ['synth', '--images', '-5'], message: /--images must be at least 1/ },
    { what: 'an empty training file', script: () => cli, args: ['train-images', '--train', empty, '--seconds', '0.1'], message: /no labelled images/ },
    { what: 'an empty text corpus', script: () => cli, args: ['train-words', '--corpus', empty, '--epochs', '1'], message: /nothing to train/ },
    {
      what: 'a missing training file',
      script: () => cli,
      args: ['train-images', '--train', '/nonexistent/train.tsv'],
      message: /not found: \/nonexistent\/train\.tsv/,
    },
    {
      what: 'an unwritable output, before training',
      script: () => cli,
      args: ['train-images', '--train', dataFile('corel5k-mulan', 'train.tsv'), '--seconds', '30', '--out-labels', '/nonexistent/folder/labels.vec'],
      message: /cannot write \/nonexistent\/folder\/labels\.vec/,
    },
    { what: 'an unknown option', script: () => cli, args: ['train-images', '--learning-rate', '1'], message: /unknown option --learning-rate/ },
    { what: 'the demo on a port in use', script: () => cli, args: ['demo', '--http-port', '__BUSY__'], message: /--http-port \d+ .*in use/ },
    {
      what: 'the demo without its data',
      script: () => cli,
      args: ['demo', '--http-port', '0'],
      env: { FRESHET_DATA_DIR: '/nonexistent-data' },
      message: /not found: \/nonexistent-data\/mirflickr25k\/all\.tsv/,
    },
    {
      what: 'a service port out of range',
      script: () => service('trainer'),
      args: ['--brokers', 'memory', '--http-port', '70000'],
      message: /--http-port must be at most 65535/,
    },
    {
      what: 'a service port in use',
      script: () => service('ingest'),
      args: ['--brokers', 'memory', '--http-port', '__BUSY__'],
      message: /--http-port \d+ on 127\.0\.0\.1 is in use/,
    },
    {
      what: 'a missing CA file',
      script: () => service('ingest'),
      args: ['--brokers', '127.0.0.1:1', '--kafka-tls', '--kafka-ca-file', '/nonexistent/ca.pem'],
      message: /--kafka-ca-file \/nonexistent\/ca\.pem: no such file/,
    },
    {
      what: 'SASL without a user name',
      script: () => service('publisher'),
      args: ['--brokers', '127.0.0.1:1', '--sasl-mechanism', 'plain'],
      message: /--sasl-mechanism plain needs --sasl-username/,
    },
    {
      what: 'a bad stale-checkpoint policy',
      script: () => service('trainer'),
      args: ['--brokers', 'memory', '--on-stale-checkpoint', 'ignore'],
      message: /--on-stale-checkpoint must be one of fail, reset-to-checkpoint, reset-to-earliest/,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const args = c.args.map((a) => (a === '__BUSY__' ? String(busyPort) : a));
      const r = spawnSync(process.execPath, [c.script(), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...c.env } });
      expect(r.status, `${r.stdout}${r.stderr}`).not.toBe(0);
      expect(r.status).not.toBeNull();
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('{'));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(c.message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  }

  it('feed accepts --seed (every command takes it)', () => {
    const r = spawnSync(process.execPath, [cli, 'feed', '--brokers', '127.0.0.1:1', '--seed', '3'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toMatch(/unknown option/);
    expect(r.stderr).toMatch(/nothing to send/);
  });
});
