import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { Scheduler } from '../src/sim/scheduler.js';

describe('Scheduler.runUntilOr(t, stop)', () => {
  it('stops right after the event that makes stop() true: now is that event’s time, later events stay queued', () => {
    const s = new Scheduler();
    const log: string[] = [];
    let flag = false;
    s.schedule(10n, () => log.push('a'));
    s.schedule(20n, () => {
      log.push('b');
      flag = true;
    });
    s.schedule(20n, () => log.push('b2')); // same instant, scheduled later: not run yet
    s.schedule(30n, () => log.push('c'));
    expect(s.runUntilOr(100n, () => flag)).toBe(true);
    expect(log).toEqual(['a', 'b']);
    expect(s.now).toBe(20n);
    expect(s.eventsRun).toBe(2);
    expect(s.pending).toBe(2);
    // the rest still runs afterwards, each at its own time
    const times: bigint[] = [];
    s.schedule(25n, (t) => times.push(t));
    expect(s.runUntil(100n)).toBe(3);
    expect(log).toEqual(['a', 'b', 'b2', 'c']);
    expect(times).toEqual([25n]);
    expect(s.now).toBe(100n);
  });

  it('the predicate is asked after every event, not only at the end', () => {
    const s = new Scheduler();
    const asked: bigint[] = [];
    for (const t of [5n, 6n, 7n]) s.schedule(t, () => {});
    expect(s.runUntilOr(50n, () => {
      asked.push(s.now);
      return false;
    })).toBe(false);
    expect(asked).toEqual([5n, 6n, 7n]);
  });

  it('never true: runs every event due by t, sets now = t, returns false', () => {
    const s = new Scheduler();
    const log: bigint[] = [];
    s.schedule(10n, (t) => log.push(t));
    s.schedule(40n, (t) => log.push(t));
    s.schedule(41n, (t) => log.push(t));
    expect(s.runUntilOr(40n, () => false)).toBe(false);
    expect(log).toEqual([10n, 40n]); // an event at exactly t runs
    expect(s.now).toBe(40n);
    expect(s.eventsRun).toBe(2);
    expect(s.pending).toBe(1);
    expect(s.runUntilOr(60n, () => false)).toBe(false);
    expect(s.now).toBe(60n);
    expect(log).toEqual([10n, 40n, 41n]);
  });

  it('an empty queue (or nothing due by t): now = t, false, even with a predicate that is always true', () => {
    const s = new Scheduler();
    expect(s.runUntilOr(7n, () => true)).toBe(false);
    expect(s.now).toBe(7n);
    s.schedule(100n, () => {});
    expect(s.runUntilOr(99n, () => true)).toBe(false);
    expect(s.now).toBe(99n);
    expect(s.eventsRun).toBe(0);
    expect(s.pending).toBe(1);
  });

  it('the event at exactly t can be the one that stops it: true, now = t', () => {
    const s = new Scheduler();
    let flag = false;
    s.schedule(3n, () => {});
    s.schedule(50n, () => void (flag = true));
    expect(s.runUntilOr(50n, () => flag)).toBe(true);
    expect(s.now).toBe(50n);
    expect(s.eventsRun).toBe(2);
  });

  it('a stop on the last event due before t leaves now at that event, not at t', () => {
    const s = new Scheduler();
    let flag = false;
    s.schedule(12n, () => void (flag = true));
    expect(s.runUntilOr(1000n, () => flag)).toBe(true);
    expect(s.now).toBe(12n);
    expect(s.pending).toBe(0);
  });

  it('a predicate already true before any event does not stop before the first event: it runs, then it stops', () => {
    const s = new Scheduler();
    const log: bigint[] = [];
    s.schedule(10n, (t) => log.push(t));
    s.schedule(20n, (t) => log.push(t));
    s.runUntil(5n);
    expect(s.runUntilOr(100n, () => true)).toBe(true);
    expect(log).toEqual([10n]); // exactly one event ran
    expect(s.now).toBe(10n);
    expect(s.eventsRun).toBe(1);
    expect(s.pending).toBe(1);
  });

  it('a t in the past is a RangeError and runs nothing', () => {
    const s = new Scheduler();
    s.schedule(200n, () => {});
    s.runUntil(100n);
    let asked = false;
    expect(() => s.runUntilOr(99n, () => (asked = true))).toThrow(RangeError);
    expect(s.now).toBe(100n);
    expect(s.eventsRun).toBe(0);
    expect(asked).toBe(false);
    expect(s.runUntilOr(100n, () => false)).toBe(false); // t = now is not the past
    expect(s.now).toBe(100n);
  });

  it('cancelled events are skipped: they run nothing and do not count', () => {
    const s = new Scheduler();
    let flag = false;
    const h = s.schedule(10n, () => void (flag = true));
    s.schedule(20n, () => {});
    s.cancel(h);
    expect(s.runUntilOr(30n, () => flag)).toBe(false);
    expect(s.eventsRun).toBe(1);
    expect(s.now).toBe(30n);
  });

  // fire() pops a cancelled event without running it; stop() is asked only after an event that ran.
  it('a cancelled event at the head of the queue is not an event: an already-true predicate still waits for a real one', () => {
    const s = new Scheduler();
    const h = s.schedule(10n, () => {});
    const log: bigint[] = [];
    s.schedule(20n, (t) => log.push(t));
    s.cancel(h);
    expect(s.runUntilOr(100n, () => true)).toBe(true);
    expect(log).toEqual([20n]);
    expect(s.now).toBe(20n);
    expect(s.eventsRun).toBe(1);
  });

  it('events scheduled by a running event (at or before t) run in the same call, and can stop it', () => {
    const s = new Scheduler();
    let flag = false;
    s.schedule(10n, () => void s.after(5n, () => void (flag = true)));
    s.schedule(40n, () => {});
    expect(s.runUntilOr(100n, () => flag)).toBe(true);
    expect(s.now).toBe(15n);
    expect(s.pending).toBe(1);
  });

  it('inside an event (as vcpu_block runs it): stops the inner wait early, and the outer run goes on', () => {
    const s = new Scheduler();
    const log: string[] = [];
    let signalled = false;
    s.schedule(100n, () => {
      const early = s.runUntilOr(500n, () => signalled);
      log.push(`woke@${s.now}:${String(early)}`);
    });
    s.schedule(150n, () => void (signalled = true));
    s.schedule(500n, () => log.push(`timer@${s.now}`));
    s.run();
    expect(log).toEqual(['woke@150:true', 'timer@500']);
  });
});

describe('runUntilOr, property: random event times and a random stop index', () => {
  test.prop(
    [
      fc.array(fc.bigInt({ min: 0n, max: 1000n }), { minLength: 0, maxLength: 30 }),
      fc.nat({ max: 40 }),
      fc.bigInt({ min: 0n, max: 1200n }),
    ],
    { numRuns: 300 },
  )('stops after the (k+1)-th event run, with now at its time; otherwise runs to t', (times, k, t) => {
    const s = new Scheduler();
    const ran: number[] = [];
    times.forEach((at, i) => s.schedule(at, () => void ran.push(i)));
    // time order, ties in scheduling order
    const order = times.map((at, i) => ({ at, i })).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.i - b.i));
    const due = order.filter((e) => e.at <= t);
    const stopped = s.runUntilOr(t, () => ran.length > k);
    if (k < due.length) {
      expect(stopped).toBe(true);
      expect(ran).toEqual(due.slice(0, k + 1).map((e) => e.i));
      expect(s.now).toBe(due[k]!.at);
      expect(s.eventsRun).toBe(k + 1);
      expect(s.pending).toBe(times.length - k - 1);
    } else {
      expect(stopped).toBe(false);
      expect(ran).toEqual(due.map((e) => e.i));
      expect(s.now).toBe(t);
      expect(s.eventsRun).toBe(due.length);
      expect(s.pending).toBe(times.length - due.length);
    }
  });

  test.prop([fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 20 }), fc.bigInt({ min: 0n, max: 1200n })], { numRuns: 200 })(
    'with a predicate that is never true it is runUntil(t): same events, same now',
    (times, t) => {
      const a = new Scheduler();
      const b = new Scheduler();
      const la: number[] = [];
      const lb: number[] = [];
      times.forEach((at, i) => {
        a.schedule(at, () => void la.push(i));
        b.schedule(at, () => void lb.push(i));
      });
      const n = a.runUntil(t);
      expect(b.runUntilOr(t, () => false)).toBe(false);
      expect(lb).toEqual(la);
      expect(b.eventsRun).toBe(n);
      expect(b.now).toBe(a.now);
      expect(b.pending).toBe(a.pending);
    },
  );
});
