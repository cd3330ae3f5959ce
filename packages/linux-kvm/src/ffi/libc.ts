/**
 * The few libc calls KVM needs (open, close, ioctl, mmap, munmap, and the CPU affinity calls
 * cpu-pin.ts uses), bound through koffi: an
 * FFI library with prebuilt binaries, so no compiler and no hand-written addon. koffi is
 * loaded lazily, so importing this package never fails on a machine where it cannot load;
 * `loadLibc()` says why instead.
 *
 * ioctl() is variadic in C; on x86_64 the System V ABI passes a variadic integer or pointer
 * argument exactly like a fixed one, so two fixed prototypes (pointer arg, integer arg) serve.
 */
import { createRequire } from 'node:module';
import { KvmError, errnoName } from '@kvmlab/hypervisor-core';
import type * as KoffiModule from 'koffi';

type Koffi = typeof KoffiModule;

/** An opaque libc pointer as koffi hands it over. */
export type CPointer = object;

export interface Libc {
  readonly koffi: Koffi;
  open(path: string, flags: number): number;
  close(fd: number): number;
  /** ioctl(fd, req, void *arg): arg is a buffer the kernel reads and/or writes. */
  ioctlPtr(fd: number, req: bigint, arg: Uint8Array | null): number;
  /** ioctl(fd, req, unsigned long arg). */
  ioctlInt(fd: number, req: bigint, arg: bigint): number;
  /**
   * ioctl(fd, req, unsigned long arg) returning the whole 64-bit RAX the syscall left: glibc's
   * int return truncates an ioctl that returns a u32 above INT_MAX (KVM_GET_TSC_KHZ) to -1.
   */
  ioctlLong(fd: number, req: bigint, arg: bigint): bigint;
  mmap(addr: null, length: bigint, prot: number, flags: number, fd: number, offset: bigint): CPointer;
  munmap(addr: CPointer, length: bigint): number;
  /** sched_getcpu(): the CPU the calling thread runs on. */
  schedGetcpu(): number;
  /** sched_getaffinity / sched_setaffinity(0 = the calling thread, size, mask). */
  schedGetaffinity(pid: number, size: number, mask: Uint8Array): number;
  schedSetaffinity(pid: number, size: number, mask: Uint8Array): number;
  errno(): number;
}

let cached: Libc | Error | undefined;

/** Binds libc once; returns the Error that prevented it (e.g. koffi has no binary here). */
export function loadLibc(): Libc | Error {
  if (cached !== undefined) return cached;
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(`the KVM binding is written for linux/x64, not ${process.platform}/${process.arch}`);
    }
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const lib = koffi.load('libc.so.6');
    const open = lib.func('int open(const char *path, int flags)');
    const close = lib.func('int close(int fd)');
    const ioctlPtr = lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']);
    const ioctlInt = lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']);
    const ioctlLong = lib.func('ioctl', 'int64_t', ['int', 'unsigned long', 'unsigned long']);
    const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
    const munmap = lib.func('int munmap(void *addr, size_t length)');
    const schedGetcpu = lib.func('int sched_getcpu(void)');
    const schedGetaffinity = lib.func('sched_getaffinity', 'int', ['int', 'size_t', 'void *']);
    const schedSetaffinity = lib.func('sched_setaffinity', 'int', ['int', 'size_t', 'void *']);
    cached = {
      koffi,
      open: (p, f) => open(p, f) as number,
      close: (fd) => close(fd) as number,
      ioctlPtr: (fd, req, arg) => ioctlPtr(fd, req, arg) as number,
      ioctlInt: (fd, req, arg) => ioctlInt(fd, req, arg) as number,
      ioctlLong: (fd, req, arg) => BigInt(ioctlLong(fd, req, arg) as number | bigint),
      mmap: (a, len, prot, flags, fd, off) => mmap(a, len, prot, flags, fd, off) as CPointer,
      munmap: (a, len) => munmap(a, len) as number,
      schedGetcpu: () => schedGetcpu() as number,
      schedGetaffinity: (pid, size, mask) => schedGetaffinity(pid, size, mask) as number,
      schedSetaffinity: (pid, size, mask) => schedSetaffinity(pid, size, mask) as number,
      errno: () => koffi.errno(),
    };
  } catch (e) {
    cached = e instanceof Error ? e : new Error(String(e));
  }
  return cached;
}

/** The libc binding, or a thrown Error saying why there is none. */
export function libc(): Libc {
  const l = loadLibc();
  if (l instanceof Error) throw l;
  return l;
}

/**
 * A failed libc call as the model's error: the same KvmError class, with the kernel's errno
 * looked up by hypervisor-core's errnoName. An errno core does not name is a plain Error.
 */
export function errnoError(what: string, errno: number): Error {
  const name = errnoName(errno);
  if (name !== undefined) return new KvmError(name, `${what} failed (errno ${errno})`);
  return new Error(`${what} failed with errno ${errno}, which hypervisor-core does not name`);
}

/** Runs a libc call that returns -1 on failure; throws the errno as KvmError. */
export function check(what: string, ret: number): number {
  if (ret < 0) throw errnoError(what, libc().errno());
  return ret;
}
