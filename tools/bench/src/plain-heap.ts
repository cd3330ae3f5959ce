/**
 * The scheduler benchmark's reference: the same self-rescheduling workload on the plainest
 * event queue there is — a binary heap of number times with a sequence number for ties and a
 * function per event — so the model's Scheduler (bigint time, cancellation, labels) is measured
 * against what the machine does with none of that.
 */
export function runPlainHeap(n: number): number {
  const at: number[] = [];
  const seq: number[] = [];
  const fns: (() => void)[] = [];
  let next = 0;
  let now = 0;
  const less = (i: number, j: number): boolean => at[i]! < at[j]! || (at[i] === at[j] && seq[i]! < seq[j]!);
  const swap = (i: number, j: number): void => {
    [at[i], at[j]] = [at[j]!, at[i]!];
    [seq[i], seq[j]] = [seq[j]!, seq[i]!];
    [fns[i], fns[j]] = [fns[j]!, fns[i]!];
  };
  const push = (t: number, fn: () => void): void => {
    let i = at.length;
    at.push(t);
    seq.push(next++);
    fns.push(fn);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = (): (() => void) => {
    const fn = fns[0]!;
    now = at[0]!;
    const last = at.length - 1;
    swap(0, last);
    at.pop();
    seq.pop();
    fns.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= at.length) break;
      const r = l + 1;
      const c = r < at.length && less(r, l) ? r : l;
      if (!less(c, i)) break;
      swap(c, i);
      i = c;
    }
    return fn;
  };
  let count = 0;
  const tick = (): void => {
    if (++count < n) push(now + ((count * 7919) % 1000) + 1, tick);
  };
  for (let i = 0; i < 64; i++) push(i, tick);
  while (at.length > 0) pop()();
  return count;
}
