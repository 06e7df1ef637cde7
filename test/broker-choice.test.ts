import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBroker, dockerAnswers } from './kafka/broker-choice.js';

describe('where the test broker comes from', () => {
  it('prefers KAFKA_BROKERS, then a Docker daemon (testcontainers), then the Maven jars; a forced choice wins over detection', () => {
    expect(chooseBroker({ KAFKA_BROKERS: 'k:9092' }, true)).toMatchObject({ kind: 'existing', brokers: 'k:9092' });
    expect(chooseBroker({}, true).kind).toBe('testcontainers');
    expect(chooseBroker({}, false).kind).toBe('maven');
    expect(chooseBroker({ FRESHET_TEST_BROKER: 'maven' }, true).kind).toBe('maven');
    expect(chooseBroker({ FRESHET_TEST_BROKER: 'testcontainers' }, false).kind).toBe('testcontainers');
    expect(() => chooseBroker({ FRESHET_TEST_BROKER: 'docker' }, false)).toThrow(/maven or testcontainers/);
  });

  it('asks the daemon, not the CLI: a socket that answers /_ping counts, a missing one does not', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'freshet-docker-')), 'docker.sock');
    expect(await dockerAnswers({ DOCKER_HOST: `unix://${socket}` })).toBe(false);
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/_ping' ? 200 : 404;
      res.end('OK');
    });
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      expect(await dockerAnswers({ DOCKER_HOST: `unix://${socket}` })).toBe(true);
    } finally {
      server.close();
    }
  });
});
