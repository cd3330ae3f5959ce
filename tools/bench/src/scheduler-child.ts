// Child process for the scheduler benchmark: the model's Scheduler and the plain number heap,
// paired, in a process that has run nothing else. In the bench's own process the suites before
// it have driven the Scheduler's code with many event closures and hypervisors, so its call
// sites are polymorphic there while the plain heap's are not (one closure): the comparison would
// measure the suites' order, not the two queues. Prints the PairResult as JSON.
import { Scheduler } from '@kvmlab/hypervisor-core';
import { pairedRatio } from './paired.js';
import { runPlainHeap } from './plain-heap.js';

/** Events per run (printed with the result: the figure's events/s divide by it). */
const N = 200_000;
// A self-rescheduling workload with 64 interleaved timers, as a model's vCPUs and timers are;
// the reference runs the same events on a plain binary heap of numbers (plain-heap.ts).
const model = (): void => {
  const s = new Scheduler();
  let n = 0;
  const tick = (): void => {
    if (++n < N) s.after(BigInt((n * 7919) % 1000) + 1n, tick);
  };
  for (let i = 0; i < 64; i++) s.schedule(BigInt(i), tick);
  s.run();
};
const r = await pairedRatio('scheduler 200k events', () => runPlainHeap(N), model, { timeMs: 300, reps: 5 });
process.stdout.write(JSON.stringify({ ...r, events: N }));
