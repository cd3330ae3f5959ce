/**
 * Ctrl-C, or SIGTERM (a scheduler preempting the job, `kubectl delete pod`): the sweep stops
 * cleanly — the progress bar gives the terminal back its cursor, the journal keeps every run
 * that finished, whole — instead of dying mid-line. The handlers go once the first signal is
 * seen, so a second Ctrl-C kills at once (Node's default).
 */
import { constants } from 'node:os';

export interface Interruption {
  /** Aborted at the first signal. */
  readonly signal: AbortSignal;
  /** The signal seen, if any. */
  readonly seen: () => NodeJS.Signals | undefined;
  /** 128 + the signal's number, as a shell reports a command a signal stopped (130 for SIGINT). */
  readonly exitStatus: () => number;
  /** Removes the handlers (Node's defaults again). */
  readonly dispose: () => void;
}

export function interruption(): Interruption {
  const ac = new AbortController();
  let seen: NodeJS.Signals | undefined;
  const names: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const on = (sig: NodeJS.Signals): void => {
    seen = sig;
    dispose();
    ac.abort();
  };
  const dispose = (): void => {
    for (const n of names) process.removeListener(n, on);
  };
  for (const n of names) process.on(n, on);
  return { signal: ac.signal, seen: () => seen, exitStatus: () => 128 + constants.signals[seen ?? 'SIGINT'], dispose };
}

