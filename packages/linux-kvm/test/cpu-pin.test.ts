import { describe, expect, it } from 'vitest';
import { currentCpuMask, withPinnedCpu } from '../src/ffi/cpu-pin.js';
import { loadLibc } from '../src/ffi/libc.js';

const libcOk = !(loadLibc() instanceof Error);

describe.skipIf(!libcOk)('withPinnedCpu (the live conformance runs pinned: cpu-pin.ts says why)', () => {
  it('inside, the thread may run on exactly one CPU, the one it was on; after, its own mask is back', () => {
    const before = currentCpuMask()!;
    expect(before.length).toBeGreaterThan(0);
    const c = loadLibc();
    if (c instanceof Error) throw c;
    const inside = withPinnedCpu(() => ({ mask: currentCpuMask()!, cpu: c.schedGetcpu() }));
    expect(inside.mask).toHaveLength(1);
    expect(inside.mask).toEqual([inside.cpu]);
    expect(before).toContain(inside.cpu);
    expect(currentCpuMask()).toEqual(before);
  });

  it('restores the mask when the work throws, and passes the error on', () => {
    const before = currentCpuMask();
    expect(() => withPinnedCpu(() => { throw new RangeError('boom'); })).toThrow(RangeError);
    expect(currentCpuMask()).toEqual(before);
  });

  it('returns what the work returns', () => {
    expect(withPinnedCpu(() => 42)).toBe(42);
  });
});
