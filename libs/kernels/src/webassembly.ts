// The WebAssembly JS API as Node 20 provides it. @types/node 20 leaves it to lib.dom, which a
// server package should not pull in; these are the parts the kernels use.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- augmenting the global WebAssembly namespace is the only way to type it
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(delta: number): number;
    }
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
  }
}

export {};
