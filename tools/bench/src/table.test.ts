import { describe, expect, it } from 'vitest';
import type { Figure } from './harness.js';
import { rewriteBlocks, selector, table } from './table.js';

const fig = (suite: string, id: string, value: number, extra: Partial<Figure> = {}): Figure => ({ suite, id, description: `${id} desc`, value, unit: 's', ...extra }) as Figure;
const runs = [
  { node: 'v20.0.0', date: '2026-12-02T06:10:00.000Z', figures: [fig('core', 'a', 1, { verdict: 'met', target: '≤ 2' }), fig('demo', 'demo-wall', 4, { spread: { min: 3, max: 5, reps: 3 } }), fig('demo', 'demo-peak-rss', 300)] },
  { node: 'v20.0.0', date: '2026-12-02T06:20:00.000Z', figures: [fig('core', 'a', 1.5, { verdict: 'noisy', target: '≤ 2' }), fig('demo', 'demo-wall', 6, { spread: { min: 5.5, max: 7, reps: 3 } }), fig('demo', 'demo-peak-rss', 310)] },
];

describe('bench:table', () => {
  it('a cell is the range over the runs, with every run\'s verdict and where the runs come from', () => {
    const t = table(runs, selector('suites=core'));
    expect(t).toContain('| a desc | 1.00–1.50 s | — | — | ≤ 2 | met, noisy |');
    expect(t).not.toContain('demo-wall');
    expect(t).toMatch(/2 runs of `npm run bench`, node v20\.0\.0, 2026-12-02 06:10–06:20 UTC, \d+× /);
  });

  it('selectors: suites, ids, all; an empty selector is an error', () => {
    expect(runs[0]!.figures.filter(selector('ids=demo-wall')).map((f) => f.id)).toEqual(['demo-wall']);
    expect(runs[0]!.figures.filter(selector('suites=all'))).toHaveLength(3);
    expect(runs[0]!.figures.filter(selector('suites=core ids=demo-peak-rss')).map((f) => f.id)).toEqual(['a', 'demo-peak-rss']);
    expect(() => selector('nothing')).toThrow(/names no suites= or ids=/);
  });

  it('rewrites only the marked blocks, and is idempotent', () => {
    const text = 'intro\n<!-- bench-table:begin suites=core -->\nold table\n<!-- bench-table:end -->\nmiddle\n<!-- bench-line:begin demo -->\nold line\n<!-- bench-line:end -->\nend\n';
    const once = rewriteBlocks(text, runs);
    expect(once.startsWith('intro\n<!-- bench-table:begin suites=core -->\n| figure |')).toBe(true);
    expect(once).not.toContain('old table');
    expect(once).toContain('\nmiddle\n');
    expect(once).toMatch(/<!-- bench-line:begin demo -->\n`npx kvmlab demo` .* takes 4\.00–6\.00 s wall \(median of each bench run; single runs 3\.00–7\.00 s\) with a peak RSS of 300–310 MB/);
    expect(once.endsWith('<!-- bench-line:end -->\nend\n')).toBe(true);
    expect(rewriteBlocks(once, runs)).toBe(once);
  });

  it('a block that selects no figure of these results is an error, not an empty table', () => {
    expect(() => rewriteBlocks('<!-- bench-table:begin suites=sweep -->\n<!-- bench-table:end -->', runs)).toThrow(/no figure in these results/);
  });
});
