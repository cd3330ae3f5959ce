/**
 * A slot's backing memory, allocated a 4 KiB page at a time on first write: a 1 TiB guest
 * that touches 1 GiB costs about 1 GiB. Untouched pages read as zeros, like fresh anonymous
 * memory (MAP_NORESERVE) behind a real memslot.
 */
import { giveBlock, takeBlock } from './block-pool.js';

export const PAGE_BYTES = 4096;
/** Pages are carved out of 256 KiB blocks, in order of first touch: one allocation (and one zero-fill) per 64 pages. */
const PAGES_PER_BLOCK = 64;

export class SparsePages {
  private readonly pages = new Map<number, Uint8Array>();
  private block: Uint8Array | null = null;
  private blockUsed = PAGES_PER_BLOCK;
  /** Every block this memory carved pages from, for release(). */
  private readonly blocks: Uint8Array[] = [];

  /** Number of pages that have been materialised. */
  get residentPages(): number {
    return this.pages.size;
  }

  /** The page, or undefined if never written. */
  peek(index: number): Uint8Array | undefined {
    return this.pages.get(index);
  }

  /** The page, allocated (zeroed) if needed. */
  page(index: number): Uint8Array {
    let p = this.pages.get(index);
    if (p === undefined) {
      if (this.blockUsed === PAGES_PER_BLOCK) {
        this.block = takeBlock(PAGE_BYTES * PAGES_PER_BLOCK);
        this.blocks.push(this.block);
        this.blockUsed = 0;
      }
      p = this.block!.subarray(this.blockUsed * PAGE_BYTES, (this.blockUsed + 1) * PAGE_BYTES);
      this.blockUsed++;
      this.pages.set(index, p);
    }
    return p;
  }

  // read/write/fill walk the range page by page inline, without a callback per piece: the
  // pvclock and clock-pairing areas KVM and the guest touch thousands of times a virtual second
  // are 32 and 64 bytes, where the call overhead was most of the cost.

  /** Copies `len` bytes from byte offset `offset` into `out` at `outOffset`. */
  read(offset: number, out: Uint8Array, outOffset: number, len: number): void {
    let done = 0;
    while (done < len) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE_BYTES);
      const inPage = pos - index * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, len - done);
      const p = this.pages.get(index);
      const at = outOffset + done;
      if (p === undefined) out.fill(0, at, at + n);
      else out.set(p.subarray(inPage, inPage + n), at);
      done += n;
    }
  }

  /** Copies `len` bytes of `src` (from `srcOffset`) to byte offset `offset`. */
  write(offset: number, src: Uint8Array, srcOffset: number, len: number): void {
    let done = 0;
    while (done < len) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE_BYTES);
      const inPage = pos - index * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, len - done);
      const p = this.page(index);
      const from = srcOffset + done;
      p.set(src.subarray(from, from + n), inPage);
      done += n;
    }
  }

  /** Fills `len` bytes at `offset` with `value` (a host memset); zeros allocate nothing new. */
  fill(offset: number, len: number, value: number): void {
    let done = 0;
    while (done < len) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE_BYTES);
      const inPage = pos - index * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, len - done);
      if (value !== 0 || this.pages.has(index)) this.page(index).fill(value, inPage, inPage + n);
      done += n;
    }
  }

  /** Indices of materialised pages, ascending. */
  residentIndices(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  /**
   * The memory is done with (its VM will not run again): every page is dropped (the memory reads
   * as zeros, as if never written) and the blocks go to a process-wide pool that later guest
   * memories draw zeroed blocks from (block-pool.ts). A caller must hold no page array from
   * before: those views now belong to the pool.
   */
  release(): void {
    this.pages.clear();
    for (const b of this.blocks) giveBlock(b);
    this.blocks.length = 0;
    this.block = null;
    this.blockUsed = PAGES_PER_BLOCK;
  }
}
