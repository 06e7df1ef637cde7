#!/usr/bin/env node
// The pipeline as separate services against Kafka, in one command:
//   npm run pipeline:kafka [-- --images FILE --corpus sotu,moby-dick --rate 2000 --keep]
// Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars (fresh each run unless
// --keep). Starts ingest, trainer, publisher and serve as their own processes (metrics on ports
// 9464-9467; serve's queries on 9467), waits until each is ready (and stops everything if one dies
// at start), feeds the images with one label per image held out, and prints held-out P@5 of the
// published snapshot as it rises, with serve's answer for the words nearest `whale`. Runs until
// Ctrl-C (or SIGTERM/SIGHUP), which stops the services and the broker.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, stopBroker } from './kafka-broker.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { Rng, leaveOneOut } = await import(join(root, 'libs', 'core', 'dist', 'index.js'));
const { readImageLabelFile, formatImageLabels } = await import(join(root, 'libs', 'datasets', 'dist', 'index.js'));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const keep = args.includes('--keep');
const images = opt('images', resolve(process.env.FRESHET_DATA_DIR ?? resolve(root, 'data'), 'mirflickr25k', 'all.tsv'));
const corpus = opt('corpus', 'sotu,moby-dick');
const rate = opt('rate', '2000');
const work = join(root, '.cache', 'pipeline');
const say = (m) => console.error(`[pipeline] ${m}`);

// a fresh start by default: an old broker's topics and an old checkpoint would be trained twice or skipped
if (!keep) rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

let broker = null;
let brokers = process.env.KAFKA_BROKERS;
const children = [];
let stopping = false;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  say('stopping services');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : (c.once('exit', r), c.kill('SIGTERM'))))));
  if (broker) await stopBroker(broker.dir, { removeData: !keep });
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(0));

if (!brokers) {
  broker = await startBroker(join(work, 'broker'));
  brokers = broker.brokers;
  say(`started a local Kafka broker at ${brokers}`);
}
const env = { ...process.env, KAFKA_BROKERS: brokers };
const services = [
  { name: 'ingest', port: 9464, extra: {} },
  { name: 'trainer', port: 9465, extra: { FRESHET_CHECKPOINT_DIR: join(work, 'checkpoints'), FRESHET_CHECKPOINT_EVERY_MS: '5000' } },
  { name: 'publisher', port: 9466, extra: { FRESHET_PUBLISH_EVERY_MS: '5000' } },
  { name: 'serve', port: 9467, extra: {} },
];
for (const s of services) {
  const child = spawn(process.execPath, [join(root, 'services', s.name, 'dist', 'main.js')], {
    env: { ...env, FRESHET_HTTP_PORT: String(s.port), ...s.extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${s.name} exited (${code ?? signal}); stopping everything`);
    void stop(1);
  });
  children.push(child);
}
// ready means listening, consuming and (trainer) restored: wait for each, give up after a minute
for (const s of services) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${s.port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      say(`${s.name} is not ready after 60 s (is port ${s.port} taken by another freshet or a demo?)`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  say(`${s.name} ready: http://127.0.0.1:${s.port}/metrics`);
}

// one label per image held out, as the demo does: the published vectors are scored on them
const split = leaveOneOut(readImageLabelFile(images), new Rng(1));
const trainFile = join(work, 'train.tsv');
const heldOutFile = join(work, 'held-out.tsv');
writeFileSync(trainFile, formatImageLabels(split.train));
writeFileSync(heldOutFile, split.test.map((p) => `${p.id}\t${p.label}`).join('\n') + '\n');
say(`feeding ${split.train.length} images (${split.test.length} labels held out) and the ${corpus} texts at ${rate} events/s`);
const cli = join(root, 'tools', 'cli', 'dist', 'main.js');
const feeder = spawn(process.execPath, [cli, 'feed', '--images', trainFile, '--corpus', corpus, '--rate', rate], {
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
feeder.on('exit', (code) => say(`feeder finished (${code}); the services keep running until Ctrl-C`));

const t0 = Date.now();
let lastVersion = 0;
say("  seconds  snapshot version   held-out P@5   MAP    serve: words nearest 'whale'");
for (;;) {
  await new Promise((r) => setTimeout(r, 5000));
  const r = spawnSync(process.execPath, [cli, 'evaluate', '--brokers', brokers, '--test', heldOutFile, '--train', trainFile], { env, encoding: 'utf8' });
  if (r.status !== 0) continue;
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  if (m.version === lastVersion) continue;
  lastVersion = m.version;
  // the same model through the query service: curl 'http://127.0.0.1:9467/neighbours?kind=WORD&id=whale&k=5'
  const near = await fetch('http://127.0.0.1:9467/neighbours?kind=WORD&id=whale&k=5').then(
    async (res) => (res.status === 200 ? (await res.json()).results.map((x) => x.id).join(', ') : '(not yet)'),
    () => '(not yet)',
  );
  console.error(
    `[pipeline] ${String(((Date.now() - t0) / 1000).toFixed(0)).padStart(8)}  ${String(m.version).padStart(16)}   ${m.p5.toFixed(3).padStart(12)}   ${m.map.toFixed(3)}  ${near}`,
  );
}
