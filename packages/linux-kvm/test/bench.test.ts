import { describe, expect, it } from 'vitest';
import { formatBenchTable, onePercentPages, runDirtyLogBench } from '../src/bench/dirty-log-bench.js';
import { isAvailable } from '../src/available.js';

describe('dirty-log race (small sizes; `npm run bench` runs the full 64 GiB one)', () => {
  it('times every work item on the model, and on the kernel when it is usable', () => {
    const r = runDirtyLogBench({ iterations: 1, bigSlot: 1n << 30n, smallSlot: 64n << 20n });
    expect(r.rows.map((x) => x.work)).toEqual(['get-64g-clean', 'get-64g-all-dirty', 'clear-64g-all', 'guest-1pct-1g', 'get-1pct-1g']);
    for (const row of r.rows) {
      expect(row.modelMs).toBeGreaterThan(0);
      if (isAvailable().ok) expect(row.kernelMs).toBeGreaterThan(0);
      else expect(row.kernelMs).toBeNull();
    }
    expect(r.kernelSkipped === null).toBe(isAvailable().ok);
    expect(formatBenchTable(r)).toContain('| CLEAR_DIRTY_LOG of all 16 Mi pages |');
  });

  it('the 1 % pattern is one page in a hundred', () => {
    const p = onePercentPages(262144);
    expect(p.length).toBe(2622);
    expect(p.slice(0, 3)).toEqual([0, 100, 200]);
  });
});
