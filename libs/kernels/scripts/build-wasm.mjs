#!/usr/bin/env node
// Builds the WebAssembly kernels (AssemblyScript -> build/<name>.wasm), skipping a kernel whose
// sources, compiler version and flags hash to what its last build recorded: every command the
// CLI runs goes through the build step, and a rebuild takes seconds.
//
// First it writes assembly/abi.ts from the declarations in src/abi.ts (compiled to dist/abi.js,
// so TypeScript is built before the kernels): the one place the boundary is declared.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const abiModule = join(root, 'dist', 'abi.js');
if (!existsSync(abiModule)) {
  console.error(`[kernels] ${abiModule} is missing: compile TypeScript first (npm run build does both, in order)`);
  process.exit(1);
}
const { assemblyAbi } = await import(pathToFileURL(abiModule).href);
const abiPath = join(root, 'assembly', 'abi.ts');
const abiText = assemblyAbi();
if (!existsSync(abiPath) || readFileSync(abiPath, 'utf8') !== abiText) {
  writeFileSync(abiPath, abiText);
  console.error('[kernels] wrote assembly/abi.ts from src/abi.ts');
}
const kernels = ['sgns', 'vse'];
const flags = [
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '--enable',
  'threads',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
];
const asc = join(root, 'node_modules', '.bin', 'asc');
const ascVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')).version;
const sources = readdirSync(join(root, 'assembly'))
  .filter((f) => f.endsWith('.ts'))
  .sort();
mkdirSync(join(root, 'build'), { recursive: true });

for (const name of kernels) {
  const hash = createHash('sha256');
  hash.update(`${ascVersion}\n${flags.join(' ')}\n${name}\n`);
  // every source: a kernel imports the shared pieces
  for (const f of sources) hash.update(`${f}\n`).update(readFileSync(join(root, 'assembly', f)));
  const digest = hash.digest('hex');
  const wasm = join(root, 'build', `${name}.wasm`);
  const stamp = join(root, 'build', `${name}.hash`);
  if (existsSync(wasm) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) continue;
  const r = spawnSync(asc, [`assembly/${name}.ts`, '--outFile', `build/${name}.wasm`, '--textFile', `build/${name}.wat`, ...flags], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`[kernels] asc failed for assembly/${name}.ts (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  writeFileSync(stamp, digest);
  console.error(`[kernels] built build/${name}.wasm`);
}
