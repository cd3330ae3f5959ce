/**
 * The destination's page frames: 4 KiB copies carved from 1 MiB blocks, and frames the
 * destination dropped (a page that became zero) handed out again. One fresh allocation per
 * 256 pages instead of one per page (blocks from core's block pool): the copies of a bulk stage are most of a migration's
 * allocations, and each fresh ArrayBuffer costs an allocation, a zero-fill and GC bookkeeping.
 */
import { giveBlock, PAGE_BYTES, takeBlock } from '@kvmlab/hypervisor-core';

const PAGES_PER_BLOCK = 256;

export class PageCopies {
  private block: Uint8Array | null = null;
  private used = PAGES_PER_BLOCK;
  private readonly free: Uint8Array[] = [];
  private readonly blocks: Uint8Array[] = [];

  /** A frame holding a copy of `src` (a whole page). */
  copyOf(src: Uint8Array): Uint8Array {
    let f = this.free.pop();
    if (f === undefined) {
      if (this.used === PAGES_PER_BLOCK) {
        this.block = takeBlock(PAGE_BYTES * PAGES_PER_BLOCK);
        this.blocks.push(this.block);
        this.used = 0;
      }
      f = this.block!.subarray(this.used * PAGE_BYTES, (this.used + 1) * PAGE_BYTES);
      this.used++;
    }
    f.set(src);
    return f;
  }

  /** A frame no longer held: its contents are overwritten before it is handed out again. */
  release(f: Uint8Array): void {
    this.free.push(f);
  }

  /** Every frame is done with: the blocks go back to core's block pool (no frame may be used after). */
  releaseAll(): void {
    for (const b of this.blocks) giveBlock(b);
    this.blocks.length = 0;
    this.free.length = 0;
    this.block = null;
    this.used = PAGES_PER_BLOCK;
  }
}
