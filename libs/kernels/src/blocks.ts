/**
 * Blocks of named fields shared by TypeScript and WebAssembly: declared once (src/abi.ts), laid
 * out here, read and written by name on the TypeScript side (BlockView) and by generated offset
 * constants on the AssemblyScript side (assembly/abi.ts, written by generateAssemblyAbi at build).
 * Nothing crosses the boundary by position any more: a field moved or added in the declaration
 * moves on both sides at once.
 */

/** The number types a field can have on both sides of the boundary. */
export type FieldType = 'i32' | 'u32' | 'f32' | 'f64';

const SIZE: Record<FieldType, number> = { i32: 4, u32: 4, f32: 4, f64: 8 };

/** A field's type and what it holds. */
export type FieldDecl = readonly [FieldType, string];

export interface Field {
  readonly offset: number;
  readonly type: FieldType;
  readonly doc: string;
}

/** Named fields at fixed byte offsets: declaration order, each aligned to its size; 8-byte multiple in all. */
export interface Block<F extends string> {
  readonly name: string;
  readonly doc: string;
  readonly fields: { readonly [K in F]: Field };
  readonly bytes: number;
}

export function block<const D extends Record<string, FieldDecl>>(name: string, doc: string, decls: D): Block<keyof D & string> {
  const fields: Record<string, Field> = {};
  let at = 0;
  for (const [field, [type, fieldDoc]] of Object.entries(decls)) {
    const size = SIZE[type];
    at = Math.ceil(at / size) * size;
    fields[field] = { offset: at, type, doc: fieldDoc };
    at += size;
  }
  return { name, doc, fields: fields as Block<keyof D & string>['fields'], bytes: Math.ceil(at / 8) * 8 };
}

/** Names whose position is their number on both sides (a kernel's sampler modes), each with its help. */
export interface Enumeration<N extends string> {
  readonly name: string;
  readonly doc: string;
  readonly names: readonly N[];
  readonly help: { readonly [K in N]: string };
  code(name: N): number;
}

export function enumeration<const D extends Record<string, string>>(name: string, doc: string, entries: D): Enumeration<keyof D & string> {
  type N = keyof D & string;
  const names = Object.keys(entries) as N[];
  return {
    name,
    doc,
    names,
    help: entries as Enumeration<N>['help'],
    code: (n: N): number => {
      const i = names.indexOf(n);
      if (i < 0) throw new Error(`${name}: ${String(n)} is not one of ${names.join(', ')}`);
      return i;
    },
  };
}

/**
 * A block at a byte offset of a (shared) memory, read and written by field name. Typed views of
 * the whole block are made once; the i32 view also serves Atomics for the fields several threads
 * touch (the control block).
 */
export class BlockView<F extends string> {
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;

  constructor(
    readonly block: Block<F>,
    buffer: ArrayBufferLike,
    readonly offset: number,
  ) {
    if (offset % 8 !== 0) throw new Error(`${block.name} at byte ${offset}: blocks must be 8-byte aligned`);
    this.i32 = new Int32Array(buffer, offset, block.bytes / 4);
    this.u32 = new Uint32Array(buffer, offset, block.bytes / 4);
    this.f32 = new Float32Array(buffer, offset, block.bytes / 4);
    this.f64 = new Float64Array(buffer, offset, block.bytes / 8);
  }

  get(name: F): number {
    const f = this.block.fields[name];
    switch (f.type) {
      case 'i32':
        return this.i32[f.offset >> 2];
      case 'u32':
        return this.u32[f.offset >> 2];
      case 'f32':
        return this.f32[f.offset >> 2];
      case 'f64':
        return this.f64[f.offset >> 3];
    }
  }

  set(name: F, value: number): void {
    const f = this.block.fields[name];
    switch (f.type) {
      case 'i32':
        this.i32[f.offset >> 2] = value;
        break;
      case 'u32':
        this.u32[f.offset >> 2] = value;
        break;
      case 'f32':
        this.f32[f.offset >> 2] = value;
        break;
      case 'f64':
        this.f64[f.offset >> 3] = value;
        break;
    }
  }

  /** Sets every field given (a configuration is written whole). */
  write(values: { readonly [K in F]?: number }): void {
    for (const [name, value] of Object.entries(values) as Array<[F, number | undefined]>) if (value !== undefined) this.set(name, value);
  }

  /** Every field as a record (counters are read so). */
  read(): Record<F, number> {
    const out = {} as Record<F, number>;
    for (const name of Object.keys(this.block.fields) as F[]) out[name] = this.get(name);
    return out;
  }

  /** Zeroes the block. */
  clear(): void {
    this.i32.fill(0);
  }

  private index(name: F): number {
    const f = this.block.fields[name];
    if (f.type !== 'i32' && f.type !== 'u32') throw new Error(`${this.block.name}.${name} is ${f.type}: Atomics need an i32 or u32 field`);
    return f.offset >> 2;
  }

  /** Atomics.load of an integer field (u32 fields read back unsigned). */
  load(name: F): number {
    const v = Atomics.load(this.i32, this.index(name));
    return this.block.fields[name].type === 'u32' ? v >>> 0 : v;
  }

  store(name: F, value: number): void {
    Atomics.store(this.i32, this.index(name), value | 0);
  }

  compareExchange(name: F, expected: number, replacement: number): number {
    return Atomics.compareExchange(this.i32, this.index(name), expected, replacement);
  }

  /** Waits while the field holds `value` (worker threads only: the main thread may not block). */
  wait(name: F, value: number, timeoutMs?: number): void {
    Atomics.wait(this.i32, this.index(name), value, timeoutMs);
  }

  notify(name: F): void {
    Atomics.notify(this.i32, this.index(name));
  }
}

/** The AssemblyScript side of the declarations: a namespace of byte offsets per block, of codes per enumeration. */
export function generateAssemblyAbi(source: string, blocks: ReadonlyArray<Block<string>>, enums: ReadonlyArray<Enumeration<string>>): string {
  const lines = [`// Generated from ${source} by scripts/build-wasm.mjs: do not edit (a test checks that it is current).`, ''];
  for (const b of blocks) {
    lines.push(`/** ${b.doc} */`, `export namespace ${b.name} {`);
    for (const [name, f] of Object.entries(b.fields)) lines.push(`  /** ${f.type}: ${f.doc} */`, `  export const ${name}: usize = ${f.offset};`);
    lines.push(`  export const BYTES: usize = ${b.bytes};`, '}', '');
  }
  for (const e of enums) {
    lines.push(`/** ${e.doc} */`, `export namespace ${e.name} {`);
    e.names.forEach((name, i) => lines.push(`  /** ${e.help[name]} */`, `  export const ${name}: i32 = ${i};`));
    lines.push('}', '');
  }
  return lines.join('\n');
}
