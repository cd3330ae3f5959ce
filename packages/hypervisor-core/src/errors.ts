/**
 * Errors the way KVM reports them: an errno name and number on a typed error, so callers
 * switch on `err.errno` instead of parsing text. Values: include/uapi/asm-generic/errno-base.h
 * and include/uapi/asm-generic/errno.h.
 */
export const ERRNO = {
  EPERM: 1, // errno-base.h
  ENOENT: 2, // errno-base.h
  EINTR: 4, // errno-base.h
  ENXIO: 6, // errno-base.h
  E2BIG: 7, // errno-base.h
  EBADF: 9, // errno-base.h
  EAGAIN: 11, // errno-base.h
  ENOMEM: 12, // errno-base.h
  EACCES: 13, // errno-base.h
  EFAULT: 14, // errno-base.h
  EBUSY: 16, // errno-base.h
  EEXIST: 17, // errno-base.h
  ENODEV: 19, // errno-base.h
  EINVAL: 22, // errno-base.h
  ENOTTY: 25, // errno-base.h (an ioctl the fd does not know)
  ERANGE: 34, // errno-base.h
  ENOSYS: 38, // errno.h
  EOPNOTSUPP: 95, // errno.h
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** Looks an errno number up by value (e.g. to map a real ioctl failure onto the same names). */
export function errnoName(value: number): ErrnoName | undefined {
  for (const [name, v] of Object.entries(ERRNO)) if (v === value) return name as ErrnoName;
  return undefined;
}

/** A failed KVM call: the errno a real ioctl would return, and which argument was at fault. */
export class KvmError extends Error {
  override readonly name = 'KvmError';
  readonly errno: ErrnoName;
  readonly code: number;
  readonly argument: string | undefined;

  constructor(errno: ErrnoName, message: string, argument?: string) {
    super(`${errno}: ${message}`);
    this.errno = errno;
    this.code = ERRNO[errno];
    this.argument = argument;
  }
}

export function isKvmError(e: unknown, errno?: ErrnoName): e is KvmError {
  return e instanceof KvmError && (errno === undefined || e.errno === errno);
}

export type CompositionErrorCode =
  | 'MISSING_REQUIREMENT'
  | 'WRONG_ARCH'
  | 'DUPLICATE_PLUGIN'
  | 'DUPLICATE_CAPABILITY'
  | 'DUPLICATE_HYPERCALL'
  | 'DUPLICATE_EXTENSION'
  | 'DEPENDENCY_CYCLE'
  | 'INVALID_PLUGIN'
  /** The kernel asked for has no such feature (and no variant was given to try it anyway). */
  | 'KERNEL_LACKS_FEATURE'
  /** A scenario option (or a plugin factory option) outside its declared type or range: ScenarioOptionError. */
  | 'INVALID_OPTION';

/**
 * A mistake in how plugins were put together, found by `createHypervisor` before anything
 * runs (like Fastify's coded plugin errors). `plugin` names the culprit. A RangeError, so code
 * that caught the RangeErrors factories and resolveScenarioOptions threw before (an unknown
 * variant, an option out of range) still catches their INVALID_OPTION errors.
 */
export class CompositionError extends RangeError {
  override readonly name: string = 'CompositionError';
  readonly code: CompositionErrorCode;
  readonly plugin: string;

  constructor(code: CompositionErrorCode, plugin: string, message: string) {
    super(`${code} (plugin "${plugin}"): ${message}`);
    this.code = code;
    this.plugin = plugin;
  }
}

/**
 * A bad call into virtual time (the scheduler): a time that is not a bigint of ns, or one in
 * the past. A RangeError, as the scheduler threw before it had a type of its own.
 */
export class SimulationError extends RangeError {
  override readonly name = 'SimulationError';
  readonly argument: string;

  constructor(message: string, argument: string) {
    super(message);
    this.argument = argument;
  }
}
