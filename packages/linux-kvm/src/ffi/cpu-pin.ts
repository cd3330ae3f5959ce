/**
 * Runs a piece of work with the calling thread pinned to the CPU it is on, then gives the thread
 * back its own CPU mask. Why: when a vCPU's thread is scheduled in on a different physical CPU
 * and the VM has no master clock, KVM requests a kvmclock update of every vCPU
 * (kvm_arch_vcpu_load(), arch/x86/kvm/x86.c, since 3.x and still in 6.18), which bumps the
 * pvclock version the guest reads. On a busy machine that made the version the kernel reported
 * depend on the host scheduler, not on the script. Pinned, the thread never changes CPU while
 * it runs vCPUs (KVM's own selftests pin their vCPU threads for the same kind of reason).
 */
import { loadLibc } from './libc.js';

/** sizeof(cpu_set_t) in glibc: 1024 CPUs, one bit each. */
const CPU_SET_BYTES = 128;

/** Calls `fn` pinned to the current CPU; without the libc calls (or if pinning fails) it just calls `fn`. */
export function withPinnedCpu<T>(fn: () => T): T {
  const c = loadLibc();
  if (c instanceof Error) return fn();
  const saved = new Uint8Array(CPU_SET_BYTES);
  const cpu = c.schedGetcpu();
  if (cpu < 0 || cpu >= CPU_SET_BYTES * 8 || c.schedGetaffinity(0, CPU_SET_BYTES, saved) !== 0) return fn();
  const one = new Uint8Array(CPU_SET_BYTES);
  one[cpu >> 3] = 1 << (cpu & 7);
  if (c.schedSetaffinity(0, CPU_SET_BYTES, one) !== 0) return fn();
  try {
    return fn();
  } finally {
    c.schedSetaffinity(0, CPU_SET_BYTES, saved);
  }
}

/** The calling thread's CPU mask as a list of CPU numbers (for tests and reports). */
export function currentCpuMask(): number[] | undefined {
  const c = loadLibc();
  if (c instanceof Error) return undefined;
  const m = new Uint8Array(CPU_SET_BYTES);
  if (c.schedGetaffinity(0, CPU_SET_BYTES, m) !== 0) return undefined;
  const cpus: number[] = [];
  for (let i = 0; i < CPU_SET_BYTES * 8; i++) if ((m[i >> 3]! & (1 << (i & 7))) !== 0) cpus.push(i);
  return cpus;
}
