/**
 * The CLI's view of hypervisor-core's release timeline (kernel-releases.ts): per modelled change
 * the scenarios that show it and a short label, and the lookups `affected` and `run --kernel`
 * make. The facts — which release and which stable backport has which change — live in core.
 */
import {
  changeVerdict, MODELLED_CHANGES, parseKernelVersion as coreParse, isKvmError, type Arch, type ChangeStatus, type KernelVersion,
  type ModelledChange,
} from '@kvmlab/hypervisor-core';
import { UsageError } from './errors.js';

export type { KernelVersion };

export interface KernelTableEntry {
  readonly id: string;
  readonly change: ModelledChange;
  readonly kind: 'fix' | 'feature';
  readonly title: string;
  /** A few words for narrow tables. */
  readonly short: string;
  readonly arch: Arch;
  readonly package: string;
  readonly scenarios: readonly string[];
  /** First mainline release with the change ("major.minor"). */
  readonly since: string;
  readonly before?: string;
  readonly after: string;
  /** A feature: the scenario variant of a kernel without it (CLI_SIDE), if there is one. */
  readonly absent?: string;
  /** Commits, backports and where the dates come from. */
  readonly source: string;
}

/**
 * The CLI's side of each modelled change. `absent`: the scenario variant of a kernel without the
 * feature, if its scenarios model one (ptp-sync's `none`: a guest without ptp_kvm, kept in time by
 * NTP over virtio-net); without it such a kernel has nothing to run.
 */
const CLI_SIDE: Readonly<Record<string, { id: string; short: string; arch: Arch; scenarios: readonly string[]; absent?: string }>> = {
  'kvm-mmu-pml': { id: 'nested-pml', short: 'nested PML dirty logging', arch: 'x86_64', scenarios: ['nested-migration', 'vmx-dirty-log', 'nested-muen-migration'] },
  'nvmx-cr3': { id: 'nvmx-guest-cr3', short: 'nVMX GUEST_CR3 after HLT', arch: 'x86_64', scenarios: ['nvmx-hlt-cr3', 'nested-muen-migration'] },
  'ptp-kvm-arm64': { id: 'ptp-kvm-arm64', short: 'ptp_kvm on arm64', arch: 'arm64', scenarios: ['ptp-sync'], absent: 'none' },
  'ptp-kvm-x86': { id: 'ptp-kvm-x86', short: 'ptp_kvm on x86', arch: 'x86_64', scenarios: ['ptp-sync'], absent: 'none' },
};

export const KERNEL_TABLE: readonly KernelTableEntry[] = MODELLED_CHANGES.map((change) => {
  const side = CLI_SIDE[change.series]!;
  return {
    ...side, change, kind: change.kind, title: change.title, package: `@kvmlab/${change.series}`, since: change.mainline,
    ...(change.before !== undefined ? { before: change.before } : {}), after: change.after,
    source: `${change.commits.join(', ')}: ${change.source}`,
  };
});

/** Core's parser, with a usage error naming the text. Accepts "5.4", "v5.4.2", "5.5-rc1", "5.4.0-150-generic". */
export function parseKernelVersion(text: string): KernelVersion {
  try {
    return coreParse(text);
  } catch (e) {
    if (isKvmError(e)) throw new UsageError(e.message.replace(/^EINVAL: /, ''));
    throw e;
  }
}

export interface KernelRow {
  readonly entry: KernelTableEntry;
  readonly status: ChangeStatus;
  /** The variant the model runs for this kernel (a fix of unknown status: the base version's). */
  readonly variant: string | undefined;
  readonly reason: string;
}

export function kernelRows(v: KernelVersion, arch?: Arch, backports: readonly string[] = []): readonly KernelRow[] {
  return KERNEL_TABLE.filter((e) => arch === undefined || e.arch === arch).map((entry) => {
    let verdict;
    try {
      verdict = changeVerdict(entry.change, v, backports);
    } catch (e) {
      if (isKvmError(e)) throw new UsageError(e.message.replace(/^EINVAL: /, ''));
      throw e;
    }
    const variant = verdict.status === 'absent' ? entry.absent : verdict.variant;
    return { entry, status: verdict.status, variant, reason: verdict.reason };
  });
}

/** The variant of `scenario` on `arch` that `kernel` behaves like (for `run --kernel`). */
export function variantForKernel(scenario: string, arch: Arch, kernel: KernelVersion, backports: readonly string[] = []): string {
  const row = kernelRows(kernel, arch, backports).find((r) => r.entry.scenarios.includes(scenario));
  if (row === undefined) throw new UsageError(`no kernel-version table entry covers scenario ${scenario} on ${arch}`);
  if (row.variant === undefined) throw new UsageError(`Linux ${kernel.text} has no ${row.entry.short} (added in ${row.entry.since})`);
  return row.variant;
}

/**
 * The cell of a scenario with variant axes that `kernel` behaves like: each axis (a package's
 * short name) mapped through that package's entry. UsageError if an axis has no entry, the
 * kernel lacks the code, or the entry's variant is not one of the axis's.
 */
export function cellForKernel(scenario: string, axes: Readonly<Record<string, readonly string[]>>, arch: Arch, kernel: KernelVersion, backports: readonly string[] = []): Readonly<Record<string, string>> {
  const rows = kernelRows(kernel, arch, backports);
  const cell: Record<string, string> = {};
  for (const [axis, values] of Object.entries(axes)) {
    const row = rows.find((r) => r.entry.package === `@kvmlab/${axis}`);
    if (row === undefined) throw new UsageError(`--kernel cannot map variant axis ${axis} of scenario ${scenario} on ${arch}: no kernel-version table entry for @kvmlab/${axis} (give --variant ${axis}=…)`);
    if (row.variant === undefined) throw new UsageError(`Linux ${kernel.text} has no ${row.entry.short} (added in ${row.entry.since})`);
    if (!values.includes(row.variant)) throw new UsageError(`--kernel maps axis ${axis} to "${row.variant}", which scenario ${scenario} does not have (variants: ${values.join(', ')})`);
    cell[axis] = row.variant;
  }
  return cell;
}
