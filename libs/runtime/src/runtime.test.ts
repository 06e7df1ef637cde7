import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { Counter, createLogger, createRegistry, formatHelp, parseOptions, startHealthServer, type OptionSpec } from './index.js';

describe('options from flags and environment', () => {
  const specs: OptionSpec[] = [
    { name: 'brokers', kind: 'list', env: 'KAFKA_BROKERS', required: true, help: 'bootstrap servers' },
    { name: 'port', kind: 'number', env: 'FRESHET_PORT', default: 9464, help: 'HTTP port' },
    { name: 'sasl-password', kind: 'string', env: 'KAFKA_SASL_PASSWORD', secret: true, help: 'SASL password' },
  ];

  it('takes flags over env over defaults and names the bad setting', () => {
    const v = parseOptions(specs, ['--port', '1234'], { KAFKA_BROKERS: 'a:1,b:2', FRESHET_PORT: '99' });
    expect(v.get('brokers')).toEqual(['a:1', 'b:2']);
    expect(v.get('port')).toBe(1234);
    expect(parseOptions(specs, [], { KAFKA_BROKERS: 'a:1', FRESHET_PORT: '99' }).get('port')).toBe(99);
    expect(() => parseOptions(specs, [], { KAFKA_BROKERS: 'a:1', FRESHET_PORT: 'x' })).toThrow(/FRESHET_PORT \(--port\) must be a number/);
    expect(() => parseOptions(specs, [], {})).toThrow(/--brokers \(or KAFKA_BROKERS\) is required/);
    expect(formatHelp('svc', 'a service', specs)).toContain('[env KAFKA_BROKERS]');
  });

  it('takes a list with commas or with spaces', () => {
    expect(parseOptions(specs, ['--brokers', 'a:1,b:2', '--port', '1']).get('brokers')).toEqual(['a:1', 'b:2']);
    expect(parseOptions(specs, ['--brokers', 'a:1', 'b:2', '--port', '1']).get('brokers')).toEqual(['a:1', 'b:2']);
    expect(parseOptions(specs, ['--brokers', 'a:1', 'b:2,c:3']).get('brokers')).toEqual(['a:1', 'b:2', 'c:3']);
    expect(parseOptions(specs, ['--brokers=a:1', '--port', '1']).get('brokers')).toEqual(['a:1']);
    expect(() => parseOptions(specs, ['--port', '1', 'stray'])).toThrow(/unexpected argument "stray"/);
  });
});

describe('logger', () => {
  it('writes NDJSON and redacts secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger('test-svc', { destination: sink });
    log.info({ sasl: { username: 'u', password: 'hunter2' } }, 'connecting');
    const entry = JSON.parse(lines[0]) as { service: string; msg: string; sasl: { password: string; username: string } };
    expect(entry.service).toBe('test-svc');
    expect(entry.msg).toBe('connecting');
    expect(entry.sasl.password).toBe('[redacted]');
    expect(entry.sasl.username).toBe('u');
  });
});

describe('health server', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const registry = createRegistry('test-svc');
    const c = new Counter({ name: 'freshet_test_events_total', help: 'events seen', registers: [registry] });
    c.inc(3);
    let ready = false;
    const http = await startHealthServer({ host: '127.0.0.1', port: 0, registry, live: () => true, ready: () => ready });
    try {
      const metrics = await (await fetch(`${http.url}/metrics`)).text();
      expect(metrics).toContain('freshet_test_events_total{service="test-svc"} 3');
      expect(metrics).toContain('process_cpu_seconds_total');
      expect(metrics).not.toContain('nodejs_active_handles_total');
      expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${http.url}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${http.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${http.url}/nope`)).status).toBe(404);
    } finally {
      await http.close();
    }
  });
});
