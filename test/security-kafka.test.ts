import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { readImageLabelFile, dataFile } from '@freshet/datasets';
import { TopicCatalogue } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { health, repoRoot, startService, stopService, testTrainerEnv, type RunningService, type TrainerHealth, feedData } from './services.js';

/**
 * The services against a secured broker of their own (the Maven-jar broker with a SASL_SSL
 * listener: TLS with a self-signed certificate, SASL PLAIN and SCRAM users): one mechanism per
 * service, passwords from a file or the environment, never in a log line.
 */
describe('Kafka security on a real broker', () => {
  it(
    'services connect over TLS with SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; a wrong password is refused; the password never reaches a log',
    { timeout: 300_000 },
    async () => {
      const { startBroker, stopBroker } = await import('../scripts/kafka-broker.mjs');
      const dir = mkdtempSync(join(tmpdir(), 'freshet-secure-'));
      const password = `pw-${randomUUID()}`;
      const broker = await startBroker(join(dir, 'broker'), { secure: { users: { freshet: password } } });
      const services: RunningService[] = [];
      try {
        const secureBrokers = broker.secureBrokers;
        const caFile = broker.caFile;
        if (secureBrokers === undefined || caFile === undefined) throw new Error('the broker opened no SASL_SSL listener');
        const passwordFile = join(dir, 'kafka-password');
        writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
        const prefix = 'secure.';
        const base = {
          KAFKA_BROKERS: secureBrokers,
          KAFKA_TLS: 'true',
          KAFKA_CA_FILE: caFile,
          KAFKA_SASL_USERNAME: 'freshet',
          FRESHET_TOPIC_PREFIX: prefix,
          FRESHET_PARTITIONS: '2',
        };

        // a wrong password: the service says authentication failed and exits non-zero
        const bad = spawn(process.execPath, [join(repoRoot, 'services', 'ingest', 'dist', 'main.js')], {
          env: { ...process.env, ...base, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_PASSWORD: 'not-the-password', FRESHET_HTTP_PORT: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let badLog = '';
        bad.stdout.on('data', (d: Buffer) => (badLog += d.toString()));
        bad.stderr.on('data', (d: Buffer) => (badLog += d.toString()));
        const badExit = await new Promise<number | null>((resolve) => bad.once('exit', (code) => resolve(code)));
        expect(badExit).not.toBe(0);
        expect(badLog).toMatch(/SASL|authentication/i);
        expect(badLog).not.toContain('not-the-password');

        services.push(await startService('ingest', { ...base, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD_FILE: passwordFile }));
        const trainer = await startService('trainer', {
          ...base,
          KAFKA_SASL_MECHANISM: 'scram-sha-256',
          KAFKA_SASL_PASSWORD: password,
          ...testTrainerEnv(join(dir, 'ck')),
        });
        services.push(trainer);
        const publisher = await startService('publisher', {
          ...base,
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_PASSWORD_FILE: passwordFile,
          FRESHET_PUBLISH_EVERY_MS: '1000',
        });
        services.push(publisher);

        const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')).slice(0, 1000);
        const feeder = new KafkaTransport({
          brokers: [secureBrokers],
          clientId: 'secure-feeder',
          ssl: { ca: [readFileSync(caFile, 'utf8')] },
          sasl: { mechanism: 'scram-sha-512', username: 'freshet', password },
        });
        await feedData(feeder, new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text)), new TopicCatalogue(prefix), { images, windows: [], rate: 0 });
        await waitFor(async () => (await health<TrainerHealth>(trainer)).applied >= images.length, {
          timeoutMs: 120_000,
          what: 'training over the secured listener',
        });
        await waitFor(async () => ((await health<{ snapshots: number }>(publisher)).snapshots ?? 0) >= 1, {
          timeoutMs: 60_000,
          what: 'a snapshot over the secured listener',
        });
        expect((await health<TrainerHealth>(trainer)).images).toBe(images.length);
        for (const s of services) {
          expect(s.child.exitCode, `${s.name} kept running`).toBeNull();
          expect(s.log.join(''), `${s.name} logs`).not.toContain(password);
        }
      } finally {
        await Promise.all(services.map((s) => stopService(s, 'SIGKILL')));
        await stopBroker(broker.dir);
      }
    },
  );
});
