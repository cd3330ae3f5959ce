/**
 * Which mainline Linux release each modelled fix or feature landed in, so `kvmlab affected`
 * can say whether a kernel has a modelled bug, and `run --kernel` can pick the variant that
 * kernel behaves like. Facts from ../../../shared/spec (nvmx-pml.md §0, ptp-kvm.md §4 and §9).
 *
 * Mainline only: stable branches may carry backports (the GUEST_CR3 fix was tagged for
 * stable), and distribution kernels often do; a `-rcN` counts as the release it leads to.
 */
import type { Arch } from '@kvmlab/hypervisor-core';
import { UsageError } from './errors.js';

export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  readonly text: string;
}

export interface KernelTableEntry {
  readonly id: string;
  /** 'fix': a bug before `since`; 'feature': absent before `since`. */
  readonly kind: 'fix' | 'feature';
  readonly title: string;
  /** A few words for narrow tables. */
  readonly short: string;
  readonly arch: Arch;
  readonly package: string;
  readonly scenarios: readonly string[];
  /** First mainline release with the change ("major.minor"). */
  readonly since: string;
  /** The model's variant for kernels before `since` (fixes only). */
  readonly before?: string;
  /** The model's variant for kernels from `since` on. */
  readonly after: string;
  /** Commits and the spec section the date comes from. */
  readonly source: string;
}

export const KERNEL_TABLE: readonly KernelTableEntry[] = [
  {
    id: 'nested-pml',
    kind: 'fix',
    short: 'nested PML dirty logging',
    title: 'nested PML logs L2 GPAs as L1 gfns: dirty pages lost in nested live migration',
    arch: 'x86_64',
    package: '@kvmlab/kvm-mmu-pml',
    scenarios: ['nested-migration', 'vmx-dirty-log'],
    since: '5.4',
    before: 'pre-fix',
    after: 'merged',
    source: '6eeb4ef049e7, 1f4e5fc83a42 (spec nvmx-pml.md §0: v5.3.1 has the bug, v5.4.0 the fix)',
  },
  {
    id: 'nvmx-guest-cr3',
    kind: 'fix',
    short: 'nVMX GUEST_CR3 after HLT',
    title: 'nVMX: stale vmcs02.GUEST_CR3 after a HLT-squashed nested VM-Enter (CR3 of subject N changed)',
    arch: 'x86_64',
    package: '@kvmlab/nvmx-cr3',
    scenarios: ['nvmx-hlt-cr3'],
    since: '5.5',
    before: 'pre-fix',
    after: 'merged',
    source: '04f11ef45810, Cc stable, in the v5.5 KVM pull (spec nvmx-pml.md §0: v5.4.0 still has it)',
  },
  {
    id: 'ptp-kvm-arm64',
    kind: 'feature',
    short: 'ptp_kvm on arm64',
    title: 'ptp_kvm on arm64: PTP_SYS_OFFSET_PRECISE from a host SMCCC service (KVM_CAP_PTP_KVM)',
    arch: 'arm64',
    package: '@kvmlab/ptp-kvm-arm64',
    scenarios: ['ptp-sync'],
    since: '5.13',
    after: 'merged',
    source: 'v19 series, March 2021 (spec ptp-kvm.md §9: Linux 5.13, not 5.12); the RFC v4 was never merged',
  },
  {
    id: 'ptp-kvm-x86',
    kind: 'feature',
    short: 'ptp_kvm on x86',
    title: 'ptp_kvm on x86: KVM_HC_CLOCK_PAIRING and the kvmclock cross-timestamp',
    arch: 'x86_64',
    package: '@kvmlab/ptp-kvm-x86',
    scenarios: ['ptp-sync'],
    since: '4.11',
    after: 'merged',
    source: '55dd00a73a51, Feb 2017 (spec ptp-kvm.md §4: Linux 4.11)',
  },
];

/** Accepts "5.4", "v5.4.2", "5.5-rc1", "6.1.0-18-amd64" (uname -r). */
export function parseKernelVersion(text: string): KernelVersion {
  const m = /^v?(\d{1,2})\.(\d{1,3})(?:\.\d+)?(?:[-+~._][0-9A-Za-z.+~_-]*)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`kernel version must look like 5.4, v5.5.1 or 6.1.0-18-amd64, got "${text}"`);
  return { major: Number(m[1]), minor: Number(m[2]), text: text.trim() };
}

export function atLeast(v: KernelVersion, since: string): boolean {
  const [maj, min] = since.split('.').map(Number) as [number, number];
  return v.major > maj || (v.major === maj && v.minor >= min);
}

export type KernelStatus = 'affected' | 'fixed' | 'present' | 'absent';

export interface KernelRow {
  readonly entry: KernelTableEntry;
  readonly status: KernelStatus;
  /** The variant the model runs for this kernel, if the code exists there. */
  readonly variant: string | undefined;
}

export function kernelRows(v: KernelVersion, arch?: Arch): readonly KernelRow[] {
  return KERNEL_TABLE.filter((e) => arch === undefined || e.arch === arch).map((entry) => {
    const has = atLeast(v, entry.since);
    if (entry.kind === 'fix') return { entry, status: has ? 'fixed' : 'affected', variant: has ? entry.after : entry.before };
    return { entry, status: has ? 'present' : 'absent', variant: has ? entry.after : undefined };
  });
}

/** The variant of `scenario` on `arch` that `kernel` behaves like (for `run --kernel`). */
export function variantForKernel(scenario: string, arch: Arch, kernel: KernelVersion): string {
  const row = kernelRows(kernel, arch).find((r) => r.entry.scenarios.includes(scenario));
  if (row === undefined) throw new UsageError(`no kernel-version table entry covers scenario ${scenario} on ${arch}`);
  if (row.variant === undefined) {
    throw new UsageError(`Linux ${kernel.text} has no ${row.entry.short} on ${arch} (added in ${row.entry.since})`);
  }
  return row.variant;
}

/**
 * The cell of a scenario with variant axes that `kernel` behaves like (for `run --kernel`). Each
 * axis is named after the package whose plugin it varies (core's contract), so `kvm-mmu-pml`
 * takes the table entry of @kvmlab/kvm-mmu-pml. UsageError when an axis has no entry, or the
 * kernel lacks the code, or the entry's variant is not one of the axis's.
 */
export function cellForKernel(scenario: string, axes: Readonly<Record<string, readonly string[]>>, arch: Arch, kernel: KernelVersion): Readonly<Record<string, string>> {
  const rows = kernelRows(kernel, arch);
  const cell: Record<string, string> = {};
  for (const [axis, values] of Object.entries(axes)) {
    const row = rows.find((r) => r.entry.package === `@kvmlab/${axis}`);
    if (row === undefined) throw new UsageError(`--kernel cannot map variant axis ${axis} of scenario ${scenario} on ${arch}: no kernel-version table entry for @kvmlab/${axis} (give --variant ${axis}=…)`);
    if (row.variant === undefined) throw new UsageError(`Linux ${kernel.text} has no ${row.entry.short} on ${arch} (added in ${row.entry.since})`);
    if (!values.includes(row.variant)) throw new UsageError(`--kernel maps axis ${axis} to "${row.variant}", which scenario ${scenario} does not have (variants: ${values.join(', ')})`);
    cell[axis] = row.variant;
  }
  return cell;
}
