/**
 * A slot's backing memory, a 4 KiB page at a time on first write: a 1 TiB guest that touches
 * 1 GiB costs about 1 GiB, and one that stores a few words into each page costs far less
 * (guest-page.ts keeps such a page as its words). Untouched pages read as zeros, like fresh
 * anonymous memory (MAP_NORESERVE) behind a real memslot.
 */
import { giveBlock, takeBlock } from './block-pool.js';
import { GuestPage, PAGE_BYTES, type FrameSource } from './guest-page.js';
import { PageMap } from './page-map.js';

export { PAGE_BYTES };
/** Frames are carved out of 256 KiB blocks, in order of need: one allocation (and one zero-fill) per 64 frames. */
const PAGES_PER_BLOCK = 64;

export class SparsePages implements FrameSource {
  /** Written pages by index: a directory of arrays, not a hashed Map (every store looks its page up). */
  private readonly pages = new PageMap<GuestPage>();
  private block: Uint8Array | null = null;
  private blockUsed = PAGES_PER_BLOCK;
  /** Every block this memory carved frames from, for release(). */
  private readonly blocks: Uint8Array[] = [];

  /** Number of pages that have been written (compact or not). */
  get residentPages(): number {
    return this.pages.size;
  }

  /** A zeroed 4 KiB frame for a page that stops being compact (FrameSource). */
  newFrame(): Uint8Array {
    if (this.blockUsed === PAGES_PER_BLOCK) {
      this.block = takeBlock(PAGE_BYTES * PAGES_PER_BLOCK);
      this.blocks.push(this.block);
      this.blockUsed = 0;
    }
    const f = this.block!.subarray(this.blockUsed * PAGE_BYTES, (this.blockUsed + 1) * PAGE_BYTES);
    this.blockUsed++;
    return f;
  }

  /** The page object, or undefined if never written (nothing is allocated). */
  pageAt(index: number): GuestPage | undefined {
    return this.pages.get(index);
  }

  /** The page object, created (zero, compact) if needed: what a store goes through. */
  pageFor(index: number): GuestPage {
    let p = this.pages.get(index);
    if (p === undefined) {
      p = new GuestPage(this);
      this.pages.set(index, p);
    }
    return p;
  }

  /**
   * The page's bytes, or undefined if never written. For a compact page this is a fresh copy:
   * read it, do not write to it (page() gives the writable bytes).
   */
  peek(index: number): Uint8Array | undefined {
    return this.pages.get(index)?.toBytes();
  }

  /** The page as one writable array (allocated if needed; a compact page becomes a frame). */
  page(index: number): Uint8Array {
    return this.pageFor(index).bytes();
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
      else p.read(inPage, out, at, n);
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
      this.pageFor(index).write(src, srcOffset + done, inPage, n);
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
      const p = value === 0 ? this.pages.get(index) : this.pageFor(index);
      p?.fill(inPage, n, value);
      done += n;
    }
  }

  /** Indices of written pages, ascending. */
  residentIndices(): number[] {
    return this.pages.keyArray();
  }

  /**
   * The memory is done with (its VM will not run again): every page is dropped (the memory reads
   * as zeros, as if never written) and the blocks go to a process-wide pool that later guest
   * memories draw zeroed blocks from (block-pool.ts). A caller must hold no page array or page
   * object from before: those frames now belong to the pool.
   */
  release(): void {
    this.pages.clear();
    for (const b of this.blocks) giveBlock(b);
    this.blocks.length = 0;
    this.block = null;
    this.blockUsed = PAGES_PER_BLOCK;
  }
}
