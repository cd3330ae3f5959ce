/**
 * What the x86 guest side may use: the instructions of its vCPU and its own memory, nothing
 * of the host. hypervisor-core's `Vcpu` has this shape; a scenario may wrap it to let each
 * instruction take virtual time.
 */
export interface X86GuestCpu {
  cpuid(leaf: number, subleaf?: number): readonly [bigint, bigint, bigint, bigint];
  /** WRMSR; false when it faulted (#GP). */
  wrmsr(index: number, value: bigint): boolean;
  rdtsc(): bigint;
  /** VMCALL: nr in RAX, args in RBX, RCX, RDX, RSI; returns RAX. */
  vmcall(nr: bigint | number, args?: readonly bigint[]): bigint;
  /** A load from guest-physical memory. */
  read(gpa: bigint, length: number): Uint8Array;
  /** The mode the guest kernel runs in (a 32-bit kernel's `long` is 32 bits). */
  readonly x86: { readonly longMode: boolean };
}

/** A guest kernel log line (dmesg). */
export type GuestLog = (level: 'err' | 'info', message: string) => void;
