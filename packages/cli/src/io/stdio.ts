/**
 * stdout and stderr as the `kvmlab` process writes them. A reader that goes away early
 * (`kvmlab list | head -3`) closes the pipe: the next write fails with EPIPE, asynchronously,
 * as an 'error' event that Node turns into an uncaught exception with a stack trace. Here that
 * event is taken as "nobody is reading any more": further writes are dropped and the command
 * finishes quietly, with the exit status it would have had (like a program that ignores
 * SIGPIPE and checks write errors — `head` has what it asked for).
 */
import type { Writable } from 'node:stream';

const GONE: ReadonlySet<string> = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'EBADF']);

export interface GuardedStream {
  readonly write: (s: string) => void;
  /** True once the reader went away. */
  readonly closed: () => boolean;
}

export function guardStream(stream: Writable): GuardedStream {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== undefined && GONE.has(e.code)) {
      closed = true;
      return;
    }
    // Anything else (a full disk behind a redirect): one line, not a stack, and a failure.
    closed = true;
    process.exitCode = 1;
    try {
      process.stderr.write(`kvmlab: cannot write output: ${e.message}\n`);
    } catch {
      // stderr is gone too: nothing left to tell.
    }
  });
  return {
    write: (s) => {
      if (closed || stream.destroyed || !stream.writable) return;
      try {
        stream.write(s);
      } catch (e) {
        // A synchronous failure (a closed fd) means the same as the 'error' event.
        if ((e as NodeJS.ErrnoException).code === undefined || !GONE.has((e as NodeJS.ErrnoException).code!)) throw e;
        closed = true;
      }
    },
    closed: () => closed,
  };
}
