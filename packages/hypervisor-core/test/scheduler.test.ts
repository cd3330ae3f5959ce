import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { Scheduler } from '../src/sim/scheduler.js';
import { Simulation } from '../src/sim/simulation.js';

describe('Scheduler', () => {
  it('runs events in time order, and same-instant events in the order scheduled', () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(30n, () => log.push('c'));
    s.schedule(10n, () => log.push('a1'));
    s.schedule(10n, () => log.push('a2'));
    s.after(20n, () => log.push('b'));
    s.schedule(10n, () => log.push('a3'));
    s.run();
    expect(log).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
    expect(s.now).toBe(30n);
  });

  it('cancel removes an event once; runUntil stops at the bound and sets now', () => {
    const s = new Scheduler();
    const log: bigint[] = [];
    const h = s.schedule(5n, (t) => log.push(t));
    s.schedule(15n, (t) => log.push(t));
    expect(s.cancel(h)).toBe(true);
    expect(s.cancel(h)).toBe(false);
    expect(s.pending).toBe(1);
    expect(s.runUntil(10n)).toBe(0);
    expect(s.now).toBe(10n);
    s.runFor(5n);
    expect(log).toEqual([15n]);
    expect(s.cancel({ at: 15n, label: undefined })).toBe(false);
  });

  it('refuses the past and negative delays', () => {
    const s = new Scheduler();
    s.runUntil(100n);
    expect(() => s.schedule(99n, () => {})).toThrow(RangeError);
    expect(() => s.after(-1n, () => {})).toThrow(RangeError);
    expect(() => s.runUntil(50n)).toThrow(RangeError);
  });

  it('elapse() inside an event lets time pass and runs the events due meanwhile at their own time', () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(100n, () => {
      log.push(`hvc-start@${s.now}`);
      s.elapse(50n);
      log.push(`hvc-end@${s.now}`);
    });
    s.schedule(120n, () => log.push(`timer@${s.now}`));
    s.schedule(160n, () => log.push(`late@${s.now}`));
    s.run();
    expect(log).toEqual(['hvc-start@100', 'timer@120', 'hvc-end@150', 'late@160']);
  });

  it('time is bigint nanoseconds beyond 2^53 without loss', () => {
    const s = new Scheduler();
    const t = (1n << 60n) + 1n;
    let seen = 0n;
    s.schedule(t, (now) => (seen = now));
    s.run();
    expect(seen).toBe(t);
  });
});

/** A small model whose events depend on the PRNG: the trace is a function of the seed. */
function trace(seed: number): string[] {
  const sim = new Simulation(seed);
  const out: string[] = [];
  const tick = (n: number): void => {
    out.push(`${sim.now}:${n}`);
    if (n < 50) sim.after(BigInt(Math.round(sim.rng.exponential(1000))), () => tick(n + 1));
    if (sim.rng.chance(0.3)) sim.after(BigInt(sim.rng.int(0, 500)), () => out.push(`${sim.now}:side${n}`));
  };
  sim.schedule(0n, () => tick(0));
  sim.run();
  return out;
}

describe('determinism', () => {
  fcTest.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 })], { numRuns: 20 })(
    'the same seed gives the same event trace',
    (seed) => {
      expect(trace(seed)).toEqual(trace(seed));
    },
  );

  it('different seeds give different traces', () => {
    expect(trace(1)).not.toEqual(trace(2));
  });
});

describe('elapse() with no event due keeps the ns pending (no bigint per guest instruction)', () => {
  type Op = { k: 'elapse'; d: number } | { k: 'after'; d: number } | { k: 'cancel'; i: number } | { k: 'runFor'; d: number } | { k: 'now' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    // small times, so that events often fall due exactly at the end of an elapse
    fc.record({ k: fc.constant('elapse' as const), d: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ k: fc.constant('after' as const), d: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ k: fc.constant('cancel' as const), i: fc.nat(20) }),
    fc.record({ k: fc.constant('runFor' as const), d: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ k: fc.constant('now' as const) }),
  );
  // The reference: elapse as the plain runUntil(now + d) it stands for. Above 2^53 (2^60 + 120 rounds to
  // 2^60 as a double) only the bigint path is exact.
  type Mode = 'elapse' | 'elapseNs' | 'runUntil';
  const drive = (ops: readonly Op[], mode: Mode, base: bigint): string[] => {
    const pass = (s: Scheduler, d: number): void => {
      if (mode === 'elapse') s.elapse(BigInt(d));
      else if (mode === 'elapseNs') s.elapseNs(d);
      else s.runUntil(s.now + BigInt(d));
    };
    const s = new Scheduler();
    const log: string[] = [];
    const handles: ReturnType<Scheduler['after']>[] = [];
    if (base > 0n) s.runUntil(base);
    for (const o of ops) {
      if (o.k === 'elapse') {
        const run = s.eventsRun;
        pass(s, o.d);
        log.push(`elapsed ${o.d}: ran ${s.eventsRun - run}`);
      } else if (o.k === 'after') {
        const id = handles.length;
        handles.push(s.after(BigInt(o.d), (t) => {
          log.push(`fire ${id} at ${t} now ${s.now}`);
          pass(s, 3);
        }));
      } else if (o.k === 'cancel') log.push(`cancel ${String(handles[o.i] !== undefined && s.cancel(handles[o.i]!))}`);
      else if (o.k === 'runFor') log.push(`ran ${s.runFor(BigInt(o.d))}`);
      else log.push(`now ${s.now} run ${s.eventsRun} pending ${s.pending}`);
    }
    log.push(`end ${s.now} ${s.eventsRun} ${s.pending}`);
    return log;
  };
  fcTest.prop([fc.array(op, { minLength: 4, maxLength: 60 }), fc.constantFrom(0n, 1n << 40n, (1n << 53n) - 6n, (1n << 60n) + 120n)], { numRuns: 300 })(
    'runs the same events at the same times and reads the same now as runUntil(now + d), below and above 2^53 ns',
    (ops, base) => {
      const reference = drive(ops, 'runUntil', base);
      expect(drive(ops, 'elapse', base)).toEqual(reference);
      expect(drive(ops, 'elapseNs', base)).toEqual(reference); // the number-typed twin
    },
  );

  it('elapseNs() beyond the lazy bound (2^32 ns) runs the events due and lands on now + d', () => {
    const s = new Scheduler();
    const seen: bigint[] = [];
    s.schedule(2n ** 33n, (t) => seen.push(t));
    s.elapseNs(2 ** 34);
    expect(seen).toEqual([2n ** 33n]);
    expect(s.now).toBe(2n ** 34n);
  });

  it.each([[-1], [0.5], [Number.NaN], [Infinity], [2 ** 53], [1n as unknown as number], ['1' as unknown as number]])(
    'elapseNs(%s) is a SimulationError naming the duration, and time does not move',
    (d) => {
      const s = new Scheduler();
      s.elapseNs(7);
      expect(() => s.elapseNs(d)).toThrow(expect.objectContaining({ name: 'SimulationError', message: expect.stringContaining('elapse duration') }));
      expect(s.now).toBe(7n);
    },
  );
});

describe('heap order against a sorted list of (time, scheduling order)', () => {
  // Times straddle 2^53, where doubles round (2^53 + 1 is 2^53 as a double): the heap keys are
  // doubles, so only the bigint tie-break keeps such events apart. Delays mix small ones (ties,
  // the lazy ns of elapse) with ones that cross the boundary from below.
  type Op = { k: 'after'; d: bigint } | { k: 'at'; t: bigint } | { k: 'elapse'; d: bigint } | { k: 'cancel'; i: number };
  const edge = 1n << 53n;
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ k: fc.constant('after' as const), d: fc.oneof(fc.bigInt({ min: 0n, max: 8n }), fc.bigInt({ min: 0n, max: 1n << 54n })) }),
    fc.record({ k: fc.constant('at' as const), t: fc.bigInt({ min: edge - 8n, max: edge + 8n }) }),
    fc.record({ k: fc.constant('elapse' as const), d: fc.bigInt({ min: 0n, max: 5n }) }),
    fc.record({ k: fc.constant('cancel' as const), i: fc.nat(30) }),
  );
  fcTest.prop([fc.array(op, { maxLength: 80 }), fc.constantFrom(0n, edge - 10n, edge + 3n)], { numRuns: 300 })(
    'runs every event in (time, order scheduled) order at its exact time, from below and above 2^53 ns',
    (ops, base) => {
      const s = new Scheduler();
      s.runUntil(base);
      const ran: string[] = [];
      const queued: { at: bigint; id: number; live: boolean }[] = [];
      const handles: ReturnType<Scheduler['after']>[] = [];
      for (const o of ops) {
        if (o.k === 'cancel') {
          const h = handles[o.i];
          if (h !== undefined && s.cancel(h)) queued[o.i]!.live = false;
          continue;
        }
        if (o.k === 'elapse') {
          s.elapse(o.d); // runs the events due by then: the order holds, no later event is earlier
          continue;
        }
        const at = o.k === 'after' ? s.now + o.d : o.t < s.now ? s.now : o.t;
        const id = handles.length;
        const fn = (t: bigint): void => void ran.push(`${id}@${t}`);
        handles.push(o.k === 'after' ? s.after(o.d, fn) : s.schedule(at, fn));
        queued.push({ at, id, live: true });
      }
      s.run();
      const expected = queued.filter((q) => q.live).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id - b.id)).map((q) => `${q.id}@${q.at}`);
      expect(ran).toEqual(expected);
    },
  );
});
