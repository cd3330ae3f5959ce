/**
 * Page blocks handed back by guest memories that are done (SparsePages.release()), kept for
 * the next guest memory in this process. A fresh block costs page faults on first touch —
 * on these machines the largest single cost of a scenario that writes a few hundred MB of
 * guest pages — while a reused one costs a memset. Blocks come back zeroed, so a guest sees
 * exactly the memory a fresh one would. Bounded: beyond MAX_POOLED_BYTES blocks are left to GC.
 */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

const pool: Uint8Array[] = [];
let pooledBytes = 0;

/** A zeroed block of `bytes`: a pooled one of that size if there is one, else a new one. */
export function takeBlock(bytes: number): Uint8Array {
  for (let i = pool.length - 1; i >= 0; i--) {
    const b = pool[i]!;
    if (b.byteLength !== bytes) continue;
    pool[i] = pool[pool.length - 1]!;
    pool.pop();
    pooledBytes -= bytes;
    return b.fill(0);
  }
  return new Uint8Array(bytes);
}

/** Hands `block` back; no view of it may be used after this. */
export function giveBlock(block: Uint8Array): void {
  if (pooledBytes + block.byteLength > MAX_POOLED_BYTES) return;
  pool.push(block);
  pooledBytes += block.byteLength;
}

/** Drops every pooled block (they become garbage). */
export function trimBlockPool(): void {
  pool.length = 0;
  pooledBytes = 0;
}

/** Bytes held in the pool now. */
export function blockPoolBytes(): number {
  return pooledBytes;
}
