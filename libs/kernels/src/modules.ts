import './webassembly.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled kernels (build/<name>.wasm). */
export type KernelModule = 'sgns' | 'vse';

const compiled = new Map<KernelModule, WebAssembly.Module>();

/** A compiled kernel (built by `npm run build` into libs/kernels/build/), cached per process. */
export function kernelModule(name: KernelModule): WebAssembly.Module {
  let module = compiled.get(name);
  if (module === undefined) {
    const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', `${name}.wasm`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new Error(`WebAssembly kernel missing at ${path}: run npm run build (it compiles libs/kernels/assembly)`);
    }
    module = new WebAssembly.Module(bytes);
    compiled.set(name, module);
  }
  return module;
}

/** An instance of a kernel over a memory (every thread instantiates its own: its own globals). */
export function instantiate<T>(name: KernelModule, memory: WebAssembly.Memory): T {
  return new WebAssembly.Instance(kernelModule(name), { env: { memory } }).exports as unknown as T;
}

/** Where a kernel's static data ends: its regions start above it. */
export function heapBase(name: KernelModule): number {
  const probe = instantiate<{ heapBase(): number }>(name, new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }));
  return probe.heapBase();
}
