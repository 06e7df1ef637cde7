#!/usr/bin/env node
// A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) from the Maven
// Central jars, for tests and local runs on machines without Docker.
//
//   node scripts/kafka-broker.mjs start [--dir DIR] [--secure USER:PASSWORD]
//                                                     prints the bootstrap address; leaves it running
//                                                     (--secure: a SASL_SSL listener's address)
//   node scripts/kafka-broker.mjs stop  [--dir DIR]
//
// The classpath is resolved once with Maven (deploy/kafka-local/pom.xml) and cached in
// .cache/kafka/classpath.txt; ~/.m2 keeps the jars. Ports are picked free, so runs never collide.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache', 'kafka');

export function classpath() {
  const file = join(cacheDir, 'classpath.txt');
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    process.stderr.write('[kafka] resolving the broker classpath with Maven (first run only)\n');
    const r = spawnSync('mvn', ['-q', '-B', 'dependency:build-classpath', `-Dmdep.outputFile=${file}`], {
      cwd: join(root, 'deploy', 'kafka-local'),
      stdio: ['ignore', 2, 2],
    });
    if (r.status !== 0 || !existsSync(file)) {
      throw new Error('could not resolve the Kafka classpath with Maven (is mvn on PATH and Maven Central reachable?)');
    }
  }
  return readFileSync(file, 'utf8').trim();
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function java(args, opts) {
  return spawnSync('java', args, { encoding: 'utf8', ...opts });
}

/**
 * A TLS identity for a secured local broker: a self-signed certificate for 127.0.0.1/localhost in
 * a PKCS12 keystore (keytool, from the JDK), and the same certificate as PEM for clients to trust.
 */
function makeTlsIdentity(dir) {
  const keystore = join(dir, 'broker.p12');
  const caFile = join(dir, 'ca.pem');
  const password = `ks-${process.pid}-${Date.now()}`;
  const gen = spawnSync(
    'keytool',
    [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '30',
      '-dname',
      'CN=localhost',
      '-ext',
      'SAN=IP:127.0.0.1,DNS:localhost',
      '-ext',
      'BC=ca:true',
      '-keystore',
      keystore,
      '-storetype',
      'PKCS12',
      '-storepass',
      password,
      '-keypass',
      password,
    ],
    { encoding: 'utf8' },
  );
  if (gen.status !== 0) throw new Error(`keytool -genkeypair failed: ${gen.stderr || gen.stdout}`);
  const exp = spawnSync('keytool', ['-exportcert', '-alias', 'broker', '-keystore', keystore, '-storepass', password, '-rfc', '-file', caFile], {
    encoding: 'utf8',
  });
  if (exp.status !== 0) throw new Error(`keytool -exportcert failed: ${exp.stderr || exp.stdout}`);
  return { keystore, caFile, password };
}

/**
 * Starts a broker in `dir` (created); resolves { brokers, pid, dir } once it accepts connections.
 * With `secure: { users }` it also opens a SASL_SSL listener (TLS with a fresh self-signed
 * certificate; SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for the given users) and resolves
 * { secureBrokers, caFile } too; the PLAINTEXT listener stays for the broker's own use.
 */
export async function startBroker(dir = join(cacheDir, `run-${process.pid}-${Date.now()}`), { timeoutMs = 120_000, secure = undefined } = {}) {
  const cp = classpath();
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const controllerPort = await freePort();
  const securePort = secure ? await freePort() : undefined;
  const tls = secure ? makeTlsIdentity(dir) : undefined;
  const logs = join(dir, 'data');
  const users = Object.entries(secure?.users ?? {});
  const plainUsers = users.map(([u, p]) => `user_${u}="${p}"`).join(' ');
  const secureProps = secure
    ? [
        'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
        'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        `ssl.keystore.location=${tls.keystore}`,
        'ssl.keystore.type=PKCS12',
        `ssl.keystore.password=${tls.password}`,
        `ssl.key.password=${tls.password}`,
        'ssl.client.auth=none',
      ]
    : [];
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${secure ? `,SASL_SSL://127.0.0.1:${securePort}` : ''}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${secure ? `,SASL_SSL://127.0.0.1:${securePort}` : ''}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...secureProps,
    `log.dirs=${logs}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.cleaner.backoff.ms=1000',
  ];
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, props.join('\n') + '\n');
  const log4j = join(root, 'deploy', 'kafka-local', 'log4j2.properties');
  const jvm = ['-Xmx512M', '-XX:+UseSerialGC', `-Dkafka.logs.dir=${dir}`, `-Dlog4j2.configurationFile=${log4j}`, '-cp', cp];
  // SCRAM credentials live in the cluster metadata: KRaft writes them when the storage is formatted
  const scram = users.flatMap(([u, p]) => ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u},password=${p}]`]));
  const fmt = java([...jvm, 'kafka.tools.StorageTool', 'format', '-t', 'freshet-local-cluster-1', '-c', propsFile, '--ignore-formatted', ...scram]);
  if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr || fmt.stdout}`);
  const started = await launch(dir, jvm, propsFile, port, timeoutMs);
  if (!secure) return started;
  const deadline = Date.now() + timeoutMs;
  while (!(await reachable(securePort))) {
    if (Date.now() > deadline) throw new Error(`the SASL_SSL listener did not open; see ${join(dir, 'broker.out')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ...started, secureBrokers: `127.0.0.1:${securePort}`, caFile: tls.caFile };
}

async function launch(dir, jvm, propsFile, port, timeoutMs) {
  const out = openSync(join(dir, 'broker.out'), 'a');
  const child = spawn('java', [...jvm, 'kafka.Kafka', propsFile], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const brokers = `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'broker.json'), JSON.stringify({ pid: child.pid, brokers, port, jvm, propsFile }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await reachable(port)) break;
    if (child.exitCode !== null) throw new Error(`kafka broker exited early (${child.exitCode}); see ${join(dir, 'broker.out')}`);
    if (Date.now() > deadline) {
      stopPid(child.pid);
      throw new Error(`kafka broker did not accept connections within ${timeoutMs} ms; see ${join(dir, 'broker.out')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { brokers, pid: child.pid, dir };
}

function reachable(port) {
  return new Promise((res) => {
    import('node:net').then(({ connect }) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
  });
}

function stopPid(pid) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/**
 * Starts the broker of `dir` again on the same ports with its data kept (after stopBroker with
 * removeData false): a broker restart, for fault tests.
 */
export async function restartBroker(dir, { timeoutMs = 120_000 } = {}) {
  const state = JSON.parse(readFileSync(join(dir, 'broker.state.json'), 'utf8'));
  return launch(dir, state.jvm, state.propsFile, state.port, timeoutMs);
}

/** Stops the broker of `dir` and waits for its process to end (then kills it hard after 20 s). */
export async function stopBroker(dir, { removeData = true } = {}) {
  const file = join(dir, 'broker.json');
  if (!existsSync(file)) return;
  const state = JSON.parse(readFileSync(file, 'utf8'));
  const { pid } = state;
  stopPid(pid);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // stopped cleanly
  }
  if (removeData) rmSync(dir, { recursive: true, force: true });
  else {
    writeFileSync(join(dir, 'broker.state.json'), JSON.stringify(state));
    rmSync(file, { force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...rest] = process.argv.slice(2);
  const dirIndex = rest.indexOf('--dir');
  const dir = dirIndex >= 0 ? resolve(rest[dirIndex + 1]) : join(cacheDir, 'default');
  if (cmd === 'start') {
    // --secure USER:PASSWORD also opens a SASL_SSL listener and prints its address instead
    const secureIndex = rest.indexOf('--secure');
    const credentials = secureIndex >= 0 ? (rest[secureIndex + 1] ?? '') : undefined;
    if (credentials !== undefined && !/^[^:]+:.+$/.test(credentials)) throw new Error('--secure takes USER:PASSWORD');
    const users = credentials === undefined ? undefined : { [credentials.slice(0, credentials.indexOf(':'))]: credentials.slice(credentials.indexOf(':') + 1) };
    const b = await startBroker(dir, users ? { secure: { users } } : {});
    if (b.secureBrokers)
      process.stderr.write(`[kafka] SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); trust ${b.caFile} (KAFKA_TLS=true KAFKA_CA_FILE=${b.caFile})\n`);
    process.stdout.write(`${b.secureBrokers ?? b.brokers}\n`);
  } else if (cmd === 'stop') {
    await stopBroker(dir);
  } else if (cmd === 'classpath') {
    process.stdout.write(classpath() + '\n');
  } else {
    process.stderr.write('usage: kafka-broker.mjs start|stop|classpath [--dir DIR] [--secure USER:PASSWORD]\n');
    process.exit(2);
  }
}
