/**
 * Determinism (issue 23): every scenario's `kvmlab run --seed 0 --json` result, in every variant,
 * is byte for byte the committed fixture — so a speed-up that changes any figure, series or
 * detail fails here. Trace fingerprints are a separate set of fixtures (trace event names are
 * renamed by other work). After an intended model change: `npm run determinism:update`, and
 * review the fixture diff.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, listScenarios, resultCases, traceCases } from './cases.js';
import { resultText, traceText } from './run.js';

const list = listScenarios();
const results = resultCases(list);
const traces = traceCases(list);

const fixture = (id: string): string => {
  const f = join(FIXTURES, `${id}.json`);
  if (!existsSync(f)) throw new Error(`no fixture ${f}: run npm run determinism:update`);
  return readFileSync(f, 'utf8');
};

describe('kvmlab run --json is the committed fixture (seed 0)', () => {
  it('covers every scenario, arch and variant the CLI lists, and no fixture is left over', () => {
    const names = new Set(list.scenarios.map((s) => s.name));
    expect(new Set(results.map((c) => c.args[0]))).toEqual(names);
    const expected = [...results, ...traces].map((c) => `${c.id}.json`).sort();
    expect(readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()).toEqual(expected);
  });
  it.each(results.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    expect(resultText(c)).toBe(fixture(c.id));
  });
});

describe('trace fingerprints are the committed fixtures (seed 0)', () => {
  it.each(traces.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    expect(traceText(c)).toBe(fixture(c.id));
  });
});
