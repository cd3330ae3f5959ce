/**
 * A mistake in how the command was called (unknown scenario, bad variant, bad number, …).
 * The CLI prints its message as one line plus the command's usage and exits with status 2;
 * no stack trace. Anything else that escapes a command is a failed run (status 1).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit statuses of the `kvmlab` command. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
