import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dataFile } from '@freshet/datasets';
import { freePort, waitFor } from '@freshet/runtime';
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

/** A CLI run, asynchronous (several run at once): exit status, stderr, stdout and seconds taken. */
function runCli(args: string[]): Promise<{ status: number | null; stderr: string; stdout: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    // the user's terminal: no log level asked for
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FRESHET_LOG_LEVEL'));
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stderr, stdout, seconds: (Date.now() - t0) / 1000 }));
  });
}

/** Exactly one line on stderr, matching; no JSON log lines; no stack trace. */
function expectOneLine(r: { status: number | null; stderr: string }, message: RegExp): void {
  expect(r.status, r.stderr).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

describe('the command line against a Kafka it cannot use', () => {
  const unreachable: string[][] = [
    ['snapshot', '--neighbours', 'whale'],
    ['tail'],
    ['evaluate', '--test', dataFile('corel5k-mulan', 'test.tsv')],
    ['reset', '--yes'],
    ['feed', '--images', dataFile('mirflickr25k', 'train.tsv'), '--limit', '10'],
  ];
  for (const args of unreachable) {
    it.concurrent(`${args[0]}: a broker that does not answer is one line naming --brokers within seconds, without the client's log noise`, async () => {
      const r = await runCli([...args, '--brokers', '127.0.0.1:1']);
      expectOneLine(r, /no Kafka broker answered at 127\.0\.0\.1:1 within 10 s: check --brokers \(or KAFKA_BROKERS\)/);
      expect(r.seconds).toBeLessThan(20);
    });
  }

  it('a broker address without a port is refused at once, naming the option', async () => {
    for (const bad of ['localhost', 'localhost:0', 'localhost:99999', 'a:1,b']) {
      const r = await runCli(['snapshot', '--brokers', bad]);
      expectOneLine(r, /--brokers \(KAFKA_BROKERS\) takes host:port addresses with a port from 1 to 65535/);
      expect(r.seconds).toBeLessThan(5);
    }
  });

  it('on a cluster without the topics, snapshot, evaluate and tail say what is missing in words', async () => {
    const brokers = inject('kafkaBrokers');
    for (const args of [['snapshot'], ['evaluate', '--test', dataFile('corel5k-mulan', 'test.tsv')], ['tail', '--topic', 'model-updates']]) {
      const r = await runCli([...args, '--brokers', brokers, '--topic-prefix', 'nothing-here.']);
      expectOneLine(r, /the cluster at .* has no topic nothing-here\.freshet\..*--topic-prefix "nothing-here\."/);
    }
  });
});

describe('a service whose Kafka does not answer yet', () => {
  it('is alive (/healthz 200) and not ready (/readyz 503) while it waits: a slow Kafka start must not get it killed', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [service('ingest'), '--brokers', '127.0.0.1:1', '--http-port', String(port)], { stdio: 'ignore' });
    try {
      const status = async (path: string): Promise<number> => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      await waitFor(async () => (await status('/healthz').catch(() => 0)) !== 0, { timeoutMs: 30_000, what: 'the health server' });
      // several looks over a few seconds of waiting for the broker
      for (let i = 0; i < 5; i++) {
        expect(await status('/healthz')).toBe(200);
        expect(await status('/readyz')).toBe(503);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
