/**
 * A progress bar on stderr (cli-progress) for runs that take more than about a second: only
 * when stderr is a TTY and the output is not JSON; it appears after the first second so short
 * runs print nothing extra. The wall clock here only paces the bar; the model never sees it.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** fraction in [0, 1] of the whole job. */
  update(fraction: number, label?: string): void;
  stop(): void;
}

export const SILENT_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

/** Delay before the bar shows up (ms). */
const SHOW_AFTER_MS = 1000;

export function createProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || stream.isTTY !== true) return SILENT_PROGRESS;
  const started = performance.now();
  let bar: SingleBar | undefined;
  return {
    update(fraction, label = '') {
      const v = Math.round(Math.min(1, Math.max(0, fraction)) * 1000);
      if (bar === undefined) {
        if (performance.now() - started < SHOW_AFTER_MS) return;
        bar = new SingleBar({ stream, format: ' {bar} {percentage}% | {label}', hideCursor: true, clearOnComplete: true, barsize: 30 });
        bar.start(1000, v, { label });
      } else bar.update(v, { label });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
