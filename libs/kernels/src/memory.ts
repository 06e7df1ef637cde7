import './webassembly.js';

/** WebAssembly pages of 64 KiB; a 32-bit memory has at most 65,536 of them (4 GiB). */
const PAGE = 65_536;
const MAX_PAGES = 65_536;

/**
 * The layout of one kernel's memory: named regions, each reserved for its largest size (the
 * model's caps) and 64-byte aligned. The memory is grown to cover every region at once; the
 * operating system commits a page only when it is first written, so a region costs address space
 * up front and RAM only as rows fill. Nothing ever moves: vocabularies grow without copying, and
 * training threads never wait for a relocation.
 */
export class MemoryLayout {
  private at: number;
  private readonly regions = new Map<string, { offset: number; bytes: number }>();

  constructor(
    /** what the memory holds, for error messages */
    private readonly what: string,
    heapBase: number,
  ) {
    this.at = align(heapBase);
  }

  /** Reserves a region and returns its byte offset. */
  take(name: string, bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`${this.what}: region ${name} has an invalid size ${bytes}`);
    const offset = this.at;
    this.regions.set(name, { offset, bytes });
    this.at = align(this.at + bytes);
    return offset;
  }

  get bytes(): number {
    return this.at;
  }

  /** The regions by size, largest first: what to lower when the layout does not fit. */
  describe(): string {
    return [...this.regions]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, 4)
      .map(([name, r]) => `${name} ${gib(r.bytes)}`)
      .join(', ');
  }

  /** A shared memory covering the layout (fails with the largest regions named when it cannot fit). */
  allocate(): WebAssembly.Memory {
    const pages = Math.ceil(this.at / PAGE);
    if (pages > MAX_PAGES) {
      throw new Error(
        `${this.what} needs ${gib(this.at)} of address space, over the 4 GiB a WebAssembly memory can hold (${this.describe()}): lower the caps or the dimension`,
      );
    }
    return new WebAssembly.Memory({ initial: Math.max(1, pages), maximum: MAX_PAGES, shared: true });
  }
}

const align = (x: number): number => Math.ceil(x / 64) * 64;
const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** Ids whose byte flag is set in flags[0..size) at `offset` of a memory, clearing them (kernels mark changed rows so). */
export function drainFlags(memory: WebAssembly.Memory, offset: number, size: number): Int32Array {
  if (offset === 0) return new Int32Array(0);
  const flags = new Uint8Array(memory.buffer, offset, size);
  let n = 0;
  for (let i = 0; i < size; i++) n += flags[i];
  const ids = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < size; i++) {
    if (flags[i] !== 0) {
      ids[j++] = i;
      flags[i] = 0;
    }
  }
  return ids;
}
