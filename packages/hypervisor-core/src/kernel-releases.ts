/**
 * One release timeline for everything kvmlab models: for the kernels where something changed,
 * the limits KVM reports, the capability answers that differ, and — per series — which variant
 * that kernel runs, with the commits and the stable backports. `createHypervisor({ kernel })`
 * takes its limits and capability answers from here, and each plugin its variant (unless the
 * caller names one: that is how an RFC or a vendor backport is tried).
 *
 * Sources: the v5.4 tree (arch/x86/include/asm/kvm_host.h, arch/x86/kvm/x86.c), the commits
 * named below, and the stable review announcements and Sasha Levin's audit of stable@-tagged KVM
 * commits missing from the LTS branches (stable@vger.kernel.org, 2021-04-06).
 */
import { KvmError } from './errors.js';
import { KERNEL_ERAS, type KernelLimits } from './kernel-era.js';
import { atLeastRelease, branchOf, parseKernelVersion, type KernelVersion } from './kernel-version.js';

/** The series kvmlab models, by the plugin that models each. */
export type SeriesId = 'kvm-mmu-pml' | 'nvmx-cr3' | 'ptp-kvm-arm64' | 'ptp-kvm-x86';

export interface ModelledChange {
  readonly series: SeriesId;
  /** 'fix': a bug before it; 'feature': absent before it. */
  readonly kind: 'fix' | 'feature';
  readonly title: string;
  /** The first mainline release with the change. */
  readonly mainline: string;
  /** Upstream commits (12-digit ids); a vendor kernel that carries them has the change. */
  readonly commits: readonly string[];
  /** The variant before and after (a feature: after only). */
  readonly before?: string;
  readonly after: string;
  /** Stable branches that got a backport: branch → the first stable release with it. */
  readonly stable: Readonly<Record<string, number>>;
  /** Branches where it was tagged for stable but not applied. */
  readonly notInStable: readonly string[];
  /** The oldest branch known to have the bug (for fixes), if known. */
  readonly bugSince?: string;
  readonly source: string;
}

export const MODELLED_CHANGES: readonly ModelledChange[] = [
  {
    series: 'kvm-mmu-pml', kind: 'fix', mainline: '5.4', before: 'pre-fix', after: 'merged',
    title: 'nested PML logs L2 GPAs as L1 gfns: dirty pages lost in nested live migration',
    commits: ['6eeb4ef049e7', '1f4e5fc83a42'], stable: {}, notInStable: [],
    source: 'in the 5.4-rc KVM pull; the patches carry no Cc: stable, and v5.3.1 still has the bug (spec nvmx-pml.md §0)',
  },
  {
    series: 'nvmx-cr3', kind: 'fix', mainline: '5.5', before: 'pre-fix', after: 'merged',
    title: 'nVMX: stale vmcs02.GUEST_CR3 after a HLT-squashed nested VM-Enter (CR3 of subject N changed)',
    commits: ['04f11ef45810'], stable: { '5.3': 16, '5.4': 3 }, notInStable: ['4.9', '4.14', '4.19'], bugSince: '4.9',
    source: 'Cc: stable, in the v5.5 pull; backported in 5.3.16 and 5.4.3 (stable reviews of 2019-12-11: patch 1/2 only, the fix — ' +
      'patch 2, the VMREAD+VMWRITE skip, is an optimization the model\'s "merged" adds on top); tagged but not applied to 4.9, 4.14, 4.19 (Sasha Levin\'s audit, 2021-04-06)',
  },
  {
    series: 'ptp-kvm-arm64', kind: 'feature', mainline: '5.13', after: 'merged',
    title: 'ptp_kvm on arm64: PTP_SYS_OFFSET_PRECISE from a host SMCCC service (KVM_CAP_PTP_KVM)',
    commits: ['3bf725699bf6'], stable: {}, notInStable: [],
    source: 'v19 series, March 2021, merged for 5.13 (spec ptp-kvm.md §9); the 2019 RFC v4 was never merged',
  },
  {
    series: 'ptp-kvm-x86', kind: 'feature', mainline: '4.11', after: 'merged',
    title: 'ptp_kvm on x86: KVM_HC_CLOCK_PAIRING and the kvmclock cross-timestamp',
    commits: ['55dd00a73a51'], stable: {}, notInStable: [],
    source: 'Feb 2017, Linux 4.11 (spec ptp-kvm.md §4)',
  },
];

export interface KernelRelease {
  readonly release: string;
  readonly limits: KernelLimits;
  /**
   * KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), which is also the set of bits
   * KVM_ENABLE_CAP accepts in args[0]: 1 (MANUAL_PROTECT_ENABLE) until 3c9bd4006bfc added
   * KVM_DIRTY_LOG_INITIALLY_SET (5.7), 3 from then on (virt/kvm/kvm_main.c).
   */
  readonly manualDirtyLogCaps: number;
  /** What changed in this release, for reports. */
  readonly changes: string;
}

const limits54 = KERNEL_ERAS['5.4'];
const limitsOf = (name: string, over: Partial<KernelLimits> = {}): KernelLimits => ({ ...limits54, ...over, name });

/** The releases where something kvmlab models changed, oldest first. */
export const KERNEL_RELEASES: readonly KernelRelease[] = [
  { release: '5.3', limits: limitsOf('5.3'), manualDirtyLogCaps: 1, changes: 'both x86 bugs present; KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 answers 1' },
  { release: '5.4', limits: limits54, manualDirtyLogCaps: 1, changes: 'the nested PML fix (6eeb4ef049e7, 1f4e5fc83a42)' },
  { release: '5.5', limits: limitsOf('5.5'), manualDirtyLogCaps: 1, changes: 'the GUEST_CR3 fix (04f11ef45810) and the VMREAD+VMWRITE skip' },
  { release: '5.7', limits: limitsOf('5.7'), manualDirtyLogCaps: 3, changes: 'KVM_DIRTY_LOG_INITIALLY_SET (3c9bd4006bfc, committed 2020-03-16 for the 5.7 merge window)' },
  {
    release: '5.13', limits: limitsOf('5.13', { userMemSlots: 32764 }), manualDirtyLogCaps: 3,
    changes: 'ptp_kvm on arm64 and KVM_CAP_PTP_KVM (3bf725699bf6, 5.13-rc1); KVM_USER_MEM_SLOTS is 32764 (4fc096a99e01, 2021, in the 5.13 window)',
  },
  { release: '6.18', limits: KERNEL_ERAS['6.18'], manualDirtyLogCaps: 3, changes: 'today\'s kernel, the one the live conformance runs against' },
];

/** The timeline entry a version behaves like: the latest release at or before it. */
export function releaseOf(v: KernelVersion): KernelRelease {
  let found: KernelRelease | undefined;
  for (const r of KERNEL_RELEASES) if (atLeastRelease(v, r.release)) found = r;
  if (found === undefined) {
    throw new KvmError('EINVAL', `kvmlab models kernels from ${KERNEL_RELEASES[0]!.release} on; "${v.text}" is older`, 'kernel');
  }
  return found;
}

export type ChangeStatus = 'vulnerable' | 'not-affected' | 'unknown' | 'present' | 'absent';

export interface ChangeVerdict {
  readonly change: ModelledChange;
  readonly status: ChangeStatus;
  /** The variant this kernel runs (absent feature: undefined; unknown: the base version's). */
  readonly variant: string | undefined;
  /** Why, in one sentence. */
  readonly reason: string;
}

/** Whether `commits` names one of the change's commits (any unambiguous prefix of ≥ 7 hex digits). */
function carries(change: ModelledChange, commits: readonly string[]): string | undefined {
  for (const c of commits) {
    const k = c.trim().toLowerCase();
    if (!/^[0-9a-f]{7,40}$/.test(k)) throw new KvmError('EINVAL', `backport "${c}" is not a commit id (7–40 hex digits)`, 'backports');
    const hit = change.commits.find((x) => x.startsWith(k) || k.startsWith(x));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** What `v` (plus any backports the caller says it carries) has of one modelled change. */
export function changeVerdict(change: ModelledChange, v: KernelVersion, backports: readonly string[] = []): ChangeVerdict {
  const branch = branchOf(v);
  const fixedIn = change.mainline;
  const named = carries(change, backports);
  if (change.kind === 'feature') {
    if (atLeastRelease(v, fixedIn)) return { change, status: 'present', variant: change.after, reason: `in mainline since ${fixedIn}` };
    if (named !== undefined) return { change, status: 'present', variant: change.after, reason: `backport of ${named} named by the caller` };
    const vendor = v.vendor !== null ? '; a vendor kernel may have backported it' : '';
    return { change, status: 'absent', variant: undefined, reason: `added in ${fixedIn}${vendor}` };
  }
  const fixed = (reason: string): ChangeVerdict => ({ change, status: 'not-affected', variant: change.after, reason });
  if (atLeastRelease(v, fixedIn)) return fixed(`fixed in mainline ${fixedIn} (${change.commits.join(', ')})`);
  if (named !== undefined) return fixed(`carries ${named} (named by the caller)`);
  const level = change.stable[branch];
  if (level !== undefined) {
    if (v.stable !== null && v.rc === null && v.stable >= level) return fixed(`backported in ${branch}.${level}`);
    if (v.stable === null) {
      return {
        change, status: 'unknown', variant: change.before,
        reason: `fixed in ${branch}.${level}, but "${v.text}" does not say which ${branch} stable release it is based on (pass --backports ${change.commits[0]} if it carries the fix)`,
      };
    }
    return { change, status: 'vulnerable', variant: change.before, reason: `the ${branch} backport came in ${branch}.${level}` };
  }
  const oldest = change.bugSince ?? KERNEL_RELEASES[0]!.release;
  if (!atLeastRelease(v, oldest)) {
    const why = change.bugSince !== undefined ? `the oldest branch known to have the bug is ${oldest}` : `kvmlab's timeline starts at ${oldest} and does not record where the bug began`;
    return { change, status: 'unknown', variant: change.before, reason: `older than ${oldest}: ${why}` };
  }
  const why = change.notInStable.includes(branch) ? `tagged for stable but never applied to ${branch}` : `no ${branch} stable backport`;
  if (v.vendor !== null) {
    return { change, status: 'unknown', variant: change.before, reason: `${why}; a vendor kernel may carry ${change.commits[0]} (pass --backports if it does)` };
  }
  return { change, status: 'vulnerable', variant: change.before, reason: `fixed in ${fixedIn}; ${why}` };
}

/** Every modelled change's verdict for a version string. */
export function kernelVerdicts(text: string, backports: readonly string[] = []): readonly ChangeVerdict[] {
  const v = parseKernelVersion(text);
  return MODELLED_CHANGES.map((c) => changeVerdict(c, v, backports));
}

/** What a hypervisor built for a kernel knows of it. */
export interface HypervisorKernel {
  /** The version asked for (null: the default 5.4 limits, variants left to each plugin's default). */
  readonly version: KernelVersion | null;
  readonly release: KernelRelease;
  readonly backports: readonly string[];
}

export interface VariantChoice {
  readonly series: string;
  readonly variant: string;
  /** What the kernel runs (undefined: no kernel given, or a series the timeline does not cover). */
  readonly kernelVariant: string | undefined;
  readonly explicit: boolean;
  /** An explicit variant other than the kernel's (a backport or an RFC tried on that kernel). */
  readonly mismatch: boolean;
}
