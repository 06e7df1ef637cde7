#!/usr/bin/env node
// The pipeline as separate services against Kafka, in one command:
//   npm run pipeline:kafka [-- --images FILE --corpus sotu,moby-dick --rate 2000]
// Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars. Starts ingest, trainer and
// publisher as their own processes (metrics on ports 9464-9466), feeds the data sets through the
// feeder, and leaves everything running until Ctrl-C, which stops the services gracefully.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, stopBroker } from './kafka-broker.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const images = opt('images', resolve(process.env.FRESHET_DATA_DIR ?? resolve(root, 'data'), 'mirflickr25k', 'all.tsv'));
const corpus = opt('corpus', 'sotu,moby-dick');
const rate = opt('rate', '2000');

let broker = null;
let brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  broker = await startBroker(join(root, '.cache', 'kafka', 'pipeline'));
  brokers = broker.brokers;
  console.error(`[pipeline] started a local Kafka broker at ${brokers}`);
}
const checkpoints = join(root, '.cache', 'checkpoints');
mkdirSync(checkpoints, { recursive: true });
const env = { ...process.env, KAFKA_BROKERS: brokers };
const children = [];
const start = (name, port, extra = {}) => {
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env: { ...env, FRESHET_HTTP_PORT: String(port), ...extra },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  console.error(`[pipeline] ${name}: http://127.0.0.1:${port}/metrics`);
};
start('ingest', 9464);
start('trainer', 9465, { FRESHET_CHECKPOINT_DIR: checkpoints });
start('publisher', 9466, { FRESHET_PUBLISH_EVERY_MS: '10000' });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.error('[pipeline] stopping services');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : (c.once('exit', r), c.kill('SIGTERM'))))));
  if (broker) await stopBroker(broker.dir);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// give the services a moment to join their groups, then feed
await new Promise((r) => setTimeout(r, 5000));
const feeder = spawn(process.execPath, [join(root, 'tools', 'cli', 'dist', 'main.js'), 'feed', '--images', images, '--corpus', corpus, '--rate', rate], {
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
feeder.on('exit', (code) => console.error(`[pipeline] feeder finished (${code}); services keep running until Ctrl-C`));
