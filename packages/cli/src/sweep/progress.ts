/**
 * The sweep's progress bar (cli-progress): runs done of the runs to do, the rate, the ETA and
 * how many crashed. Drawn on stderr only when stdout and stderr are both terminals — none when
 * the output is piped or captured (CI logs, `> file`, the tests). The wall clock here only
 * paces the bar; no result depends on it.
 */
import { SingleBar } from 'cli-progress';
import type { RunStatus } from './line.js';
import type { SweepProgress } from './run-sweep.js';

export const SILENT_SWEEP_PROGRESS: SweepProgress = { start: () => undefined, tick: () => undefined, stop: () => undefined };

export function createSweepProgress(label: string, stream: NodeJS.WriteStream | undefined, stdoutIsTty: boolean): SweepProgress {
  if (stream?.isTTY !== true || !stdoutIsTty) return SILENT_SWEEP_PROGRESS;
  let bar: SingleBar | undefined;
  let failed = 0;
  let done = 0;
  let t0 = 0;
  return {
    start(total, skipped) {
      t0 = performance.now();
      bar = new SingleBar({
        stream,
        format: ` ${label} {bar} {value}/{total} runs | {rate} runs/s | ETA {eta_formatted} | {failed} crashed${skipped > 0 ? ` | ${skipped} already done` : ''}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
        etaBuffer: 50,
      });
      bar.start(total, 0, { rate: '-', failed: 0 });
    },
    tick(status: RunStatus) {
      done++;
      if (status !== 'done') failed++;
      const s = (performance.now() - t0) / 1000;
      bar?.update(done, { rate: s > 0 ? (done / s).toFixed(2) : '-', failed });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
