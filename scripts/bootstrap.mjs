#!/usr/bin/env node
// First-use setup behind `npm run demo` and `npm test`: installs the workspace with pnpm 9
// (through npx, so a machine with only Node and npm works) when node_modules is missing or older
// than the lockfile, then builds TypeScript and then the WebAssembly kernels incrementally.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');

function run(cmd, cmdArgs, what) {
  if (!quiet) console.error(`[bootstrap] ${what}: ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(`[bootstrap] ${what} failed (exit ${r.status ?? r.signal}). Command: ${cmd} ${cmdArgs.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

const marker = join(root, 'node_modules', '.modules.yaml');
const lock = join(root, 'pnpm-lock.yaml');
const needsInstall = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
if (needsInstall && !args.has('--build-only')) {
  const frozen = existsSync(lock) && process.env.CI ? ['--frozen-lockfile'] : [];
  run('npx', ['--yes', 'pnpm@9.15.9', 'install', ...frozen], 'installing dependencies');
}

// The integration tests scrape our services with a real Prometheus (Debian package `prometheus`).
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (args.has('--with-prometheus') && !has('prometheus')) {
  if (has('apt-get') && process.getuid?.() === 0) {
    run(
      'sh',
      ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus > /dev/null'],
      'installing prometheus (Debian package)',
    );
  } else {
    console.error(
      '[bootstrap] prometheus is not installed and cannot be installed here (needs root and apt-get): the Prometheus scrape test will fail. Install the Debian package `prometheus`.',
    );
  }
}
// TypeScript first: the kernels' build generates their ABI from the compiled declarations
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.json'], 'compiling TypeScript');
run('npx', ['--yes', 'pnpm@9.15.9', '-r', '--if-present', 'run', 'build:wasm'], 'building WebAssembly kernels');
