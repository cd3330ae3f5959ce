/**
 * The sweep's progress bar (cli-progress): runs done of the runs to do, the rate, the ETA and
 * how many crashed. Drawn on stderr only when stdout and stderr are both terminals — none when
 * the output is piped or captured (CI logs, `> file`, the tests). The wall clock here only
 * paces the bar; no result depends on it.
 */
import { SingleBar } from 'cli-progress';
import type { RunStatus } from './line.js';
import type { SweepProgress } from './run-sweep.js';

/** `35s`, `4m 05s`, `2h 03m`; `-` before the first run gives a rate to go by. (Not the bar's own {eta}: cli-progress fills that token itself.) */
export function etaText(remaining: number, done: number, seconds: number): string {
  if (done === 0 || !(seconds > 0)) return '-';
  const s = Math.round((remaining * seconds) / done);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export const SILENT_SWEEP_PROGRESS: SweepProgress = { start: () => undefined, tick: () => undefined, stop: () => undefined };

export function createSweepProgress(label: string, stream: NodeJS.WriteStream | undefined, stdoutIsTty: boolean): SweepProgress {
  if (stream?.isTTY !== true || !stdoutIsTty) return SILENT_SWEEP_PROGRESS;
  let bar: SingleBar | undefined;
  let failed = 0;
  let done = 0;
  let t0 = 0;
  let total = 0;
  return {
    start(runs, skipped) {
      t0 = performance.now();
      total = runs;
      bar = new SingleBar({
        stream,
        format: ` ${label} {bar} {value}/{total} runs | {rate} runs/s | ETA {remaining} | {failed} crashed${skipped > 0 ? ` | ${skipped} already done` : ''}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
      });
      bar.start(total, 0, { rate: '-', remaining: '-', failed: 0 });
    },
    tick(status: RunStatus) {
      done++;
      if (status !== 'done') failed++;
      const s = (performance.now() - t0) / 1000;
      bar?.update(done, { rate: s > 0 ? (done / s).toFixed(2) : '-', remaining: etaText(total - done, done, s), failed });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
