import { describe, expect, it } from 'vitest';
import { resolveScenarioOptions, ScenarioOptionError, type ScenarioDef } from '../src/index.js';

const def = {
  name: 'demo-opts',
  options: {
    pages: { type: 'number', default: 8, min: 1, max: 64, integer: true, description: 'pages' },
    mode: { type: 'enum', default: 'a', values: ['a', 'b'], description: 'mode' },
  },
} as unknown as ScenarioDef;

describe('ScenarioOptionError: a caller\'s option value a scenario cannot run with', () => {
  it('resolveScenarioOptions throws it with the option, the value and the rule; it is a RangeError', () => {
    let caught: unknown;
    try {
      resolveScenarioOptions(def, { pages: 65 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScenarioOptionError);
    expect(caught).toBeInstanceOf(RangeError);
    expect(caught).toMatchObject({ name: 'ScenarioOptionError', option: 'pages', value: 65, rule: 'must be ≤ 64', scenario: 'demo-opts' });
    expect((caught as Error).message).toBe('option pages 65 must be ≤ 64');
  });

  it('an enum outside its values and an unknown option name', () => {
    expect(() => resolveScenarioOptions(def, { mode: 'c' })).toThrow(/option mode "c" must be one of a, b/);
    expect(() => resolveScenarioOptions(def, { frames: 3 })).toThrow(ScenarioOptionError);
  });

  it('a scenario throws one for options that contradict each other, naming the option at fault', () => {
    const e = new ScenarioOptionError('hotMib', 200, 'must be ≤ --wss-mib (64)', 'nested-migration');
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ option: 'hotMib', value: 200, rule: 'must be ≤ --wss-mib (64)', scenario: 'nested-migration' });
    expect(e.message).toBe('option hotMib 200 must be ≤ --wss-mib (64)');
  });
});
