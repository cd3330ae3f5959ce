/**
 * ScenarioOptionError and the resource check (issue 22): an option outside its declared type or
 * range names the option, the value and the rule; a run beyond the limits names the estimate,
 * the limit and the flag that raises it; a scenario without an estimate is never refused.
 */
import { describe, expect, it } from 'vitest';
import { CompositionError } from '../src/errors.js';
import { checkLimits, checkScenarioBudget, DEFAULT_SCENARIO_LIMITS, ScenarioBudgetError } from '../src/scenario-budget.js';
import { resolveScenarioOptions, ScenarioOptionError, type ScenarioDef } from '../src/scenario.js';

const def: ScenarioDef = {
  name: 'fake', description: 'a fake', arches: ['x86_64'], variants: ['merged'], defaultVariant: 'merged', package: 'test',
  options: {
    pages: { type: 'number', default: 4, min: 1, max: 1e6, integer: true, description: 'pages' },
    rate: { type: 'number', default: 0.5, min: 0, max: 1, description: 'rate' },
    mode: { type: 'enum', default: 'a', values: ['a', 'b'], description: 'mode' },
    on: { type: 'boolean', default: true, description: 'on' },
  },
  checkOptions: (o) => {
    if (o['mode'] === 'b' && (o['pages'] as number) < 2) throw new ScenarioOptionError('pages', o['pages'], 'must be ≥ 2 in mode b');
  },
  estimate: (o) => ({ memoryBytes: (o['pages'] as number) * 4096, events: (o['pages'] as number) * 100 }),
  run: () => { throw new Error('not run here'); },
};

const optionError = (f: () => unknown): ScenarioOptionError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioOptionError) return e;
    throw new Error(`not a ScenarioOptionError: ${String(e)}`, { cause: e });
  }
  throw new Error('nothing thrown');
};

describe('resolveScenarioOptions', () => {
  const cases: [Record<string, unknown>, string, unknown, RegExp][] = [
    [{ pages: 1.5 }, 'pages', 1.5, /must be an integer/],
    [{ pages: Number.NaN }, 'pages', Number.NaN, /must be a (finite )?number/],
    [{ pages: '4' }, 'pages', '4', /must be a number/],
    [{ pages: 0 }, 'pages', 0, /must be ≥ 1/],
    [{ rate: 1e12 }, 'rate', 1e12, /must be ≤ 1/],
    [{ mode: 'c' }, 'mode', 'c', /must be one of a, b/],
    [{ on: 'yes' }, 'on', 'yes', /must be true or false/],
    [{ nope: 1 }, 'nope', 1, /is not an option of scenario fake/],
  ];
  for (const [given, option, value, rule] of cases) {
    it(`${JSON.stringify(given)}: ScenarioOptionError(${option})`, () => {
      const e = optionError(() => resolveScenarioOptions(def, given));
      expect(e.option).toBe(option);
      expect(e.value).toEqual(value);
      expect(e.rule).toMatch(rule);
      expect(e.message).toMatch(new RegExp(`^option ${option} `));
      // A configuration error, and still the RangeError it used to be.
      expect(e).toBeInstanceOf(CompositionError);
      expect(e).toBeInstanceOf(RangeError);
      expect(e.code).toBe('INVALID_OPTION');
    });
  }
  it('fills defaults', () => {
    expect(resolveScenarioOptions(def, { pages: 8 })).toEqual({ pages: 8, rate: 0.5, mode: 'a', on: true });
  });
});

describe('checkScenarioBudget', () => {
  it('returns the estimate within the limits', () => {
    expect(checkScenarioBudget(def, resolveScenarioOptions(def, {}), 'x86_64')).toEqual({ memoryBytes: 4 * 4096, events: 400 });
  });
  it('refuses beyond the event limit, naming estimate, limit and flag', () => {
    const o = resolveScenarioOptions(def, { pages: 1e6 });
    const e = optionError(() => checkScenarioBudget(def, o, 'x86_64', { maxMemoryMiB: 1e6, maxEvents: 1e6 }));
    expect(e).toBeInstanceOf(ScenarioBudgetError);
    expect(e.option).toBe('maxEvents');
    expect(e.value).toBe(1e8);
    expect(e.message).toBe('scenario fake with these options needs about 1.00e8 events, beyond the limit of 1.00e6 (raise it with --max-events)');
    expect((e as ScenarioBudgetError).limit).toBe(1e6);
  });
  it('refuses beyond the memory limit', () => {
    const o = resolveScenarioOptions(def, { pages: 1e6 });
    const e = optionError(() => checkScenarioBudget(def, o, 'x86_64', { maxMemoryMiB: 100, maxEvents: 1e9 }));
    expect(e.option).toBe('maxMemoryMiB');
    expect(e.message).toMatch(/needs about 3907 MiB of memory, beyond the limit of 100 MiB \(raise it with --max-memory-mib\)/);
  });
  it('runs checkOptions first', () => {
    expect(optionError(() => checkScenarioBudget(def, resolveScenarioOptions(def, { mode: 'b', pages: 1 }), 'x86_64')).rule).toBe('must be ≥ 2 in mode b');
  });
  it('a scenario without an estimate is never refused', () => {
    const { estimate: _e, checkOptions: _c, ...plain } = def;
    expect(checkScenarioBudget(plain, resolveScenarioOptions(plain, { pages: 1e6 }), 'x86_64', { maxMemoryMiB: 1, maxEvents: 1 })).toEqual({ memoryBytes: 0, events: 0 });
  });
  it('limits given by a user must be positive numbers', () => {
    expect(checkLimits({})).toEqual(DEFAULT_SCENARIO_LIMITS);
    expect(checkLimits({ maxEvents: 5 })).toEqual({ ...DEFAULT_SCENARIO_LIMITS, maxEvents: 5 });
    for (const bad of [0, -1, Number.NaN, 'abc', Infinity]) expect(optionError(() => checkLimits({ maxMemoryMiB: bad })).option).toBe('maxMemoryMiB');
  });
});
