// The process-wide pool of page blocks (vm/block-pool.ts; issue 22 mutation testing): a block
// handed back is given out again for the same size only, always zeroed, the most recently
// returned first; the pool never holds more than its bound (256 MiB); guest memories that are
// released feed it and later ones draw from it without seeing the old bytes.
import { beforeEach, describe, expect, it } from 'vitest';
import { blockPoolBytes, giveBlock, takeBlock, trimBlockPool } from '../src/vm/block-pool.js';
import { SparsePages } from '../src/vm/sparse-pages.js';

const MAX_POOLED_BYTES = 256 * 1024 * 1024; // the bound block-pool.ts states

beforeEach(() => trimBlockPool());

describe('block pool', () => {
  it('an empty pool gives a new zeroed block of the size asked for', () => {
    const b = takeBlock(4096);
    expect(b.byteLength).toBe(4096);
    expect(b.every((x) => x === 0)).toBe(true);
    expect(blockPoolBytes()).toBe(0);
  });

  it('a returned block comes back for the same size, zeroed, and leaves the pool', () => {
    const b = takeBlock(8192);
    b.fill(0xee);
    giveBlock(b);
    expect(blockPoolBytes()).toBe(8192);
    const again = takeBlock(8192);
    expect(again).toBe(b);
    expect(again.every((x) => x === 0)).toBe(true);
    expect(blockPoolBytes()).toBe(0);
    expect(takeBlock(8192)).not.toBe(b); // it is no longer pooled
  });

  it('a block of another size is never handed out; the most recently returned block of a size goes first', () => {
    const a = new Uint8Array(4096);
    const big = new Uint8Array(16384);
    const c = new Uint8Array(4096);
    const d = new Uint8Array(16384);
    for (const b of [a, big, c, d]) giveBlock(b);
    expect(blockPoolBytes()).toBe(2 * 4096 + 2 * 16384);
    const other = takeBlock(8192);
    expect([a, big, c, d]).not.toContain(other);
    expect(blockPoolBytes()).toBe(2 * 4096 + 2 * 16384);
    expect(takeBlock(4096)).toBe(c);
    expect(blockPoolBytes()).toBe(4096 + 2 * 16384);
    expect(takeBlock(16384)).toBe(d);
    expect(takeBlock(4096)).toBe(a);
    expect(takeBlock(16384)).toBe(big);
    expect(blockPoolBytes()).toBe(0);
    expect([a, big, c, d]).not.toContain(takeBlock(4096));
  });

  it('the pool holds at most 256 MiB: a block that would go beyond is dropped; trim empties it', () => {
    // Untouched typed arrays are calloc'ed and cost no resident memory.
    const huge = new Uint8Array(MAX_POOLED_BYTES - 4096);
    giveBlock(huge);
    giveBlock(new Uint8Array(4096)); // exactly at the bound: kept
    expect(blockPoolBytes()).toBe(MAX_POOLED_BYTES);
    const extra = new Uint8Array(1);
    giveBlock(extra);
    expect(blockPoolBytes()).toBe(MAX_POOLED_BYTES);
    expect(takeBlock(1)).not.toBe(extra);
    trimBlockPool();
    expect(blockPoolBytes()).toBe(0);
    expect(takeBlock(4096 * 2)).not.toBe(huge);
  });

  it('a released guest memory feeds the pool; the next one reads zeros where the old one had data', () => {
    const first = new SparsePages();
    first.write(0, new Uint8Array(4096).fill(0x77), 0, 4096);
    first.release();
    expect(blockPoolBytes()).toBeGreaterThan(0);
    const pooled = blockPoolBytes();
    const second = new SparsePages();
    second.write(4096, new Uint8Array([1]), 0, 1); // a compact page: no frame yet
    expect(blockPoolBytes()).toBe(pooled);
    second.page(1); // its bytes as one array: a frame, from a pooled block
    expect(blockPoolBytes()).toBeLessThan(pooled);
    const out = new Uint8Array(8192);
    second.read(0, out, 0, 8192);
    expect(out[4096]).toBe(1);
    expect(out.filter((x) => x !== 0)).toHaveLength(1);
  });
});
