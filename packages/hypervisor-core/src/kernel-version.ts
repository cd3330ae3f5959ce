/**
 * Linux version strings as users have them: mainline ("5.4", "v5.5"), stable ("5.4.300"),
 * release candidates ("5.5-rc1": the release it leads to), and distribution kernels, whose
 * strings do not always say which stable release they are based on: Debian and Ubuntu keep
 * the upstream ".0" in the ABI name ("5.4.0-150-generic", "6.1.0-18-amd64"), RHEL backports
 * onto an old base ("4.18.0-348.el8.x86_64"). Fedora and Arch strings carry the real stable
 * level ("6.5.6-300.fc39.x86_64", "6.6.1-arch1-1").
 */
import { KvmError } from './errors.js';

export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  /** The stable level (5.4.300 → 300), or null when the string does not say (distribution ABI names). */
  readonly stable: number | null;
  /** -rcN: a release candidate of major.minor. */
  readonly rc: number | null;
  /** A vendor kernel: it may carry backports its version does not show. */
  readonly vendor: 'debian-ubuntu' | 'rhel' | 'other' | null;
  /** The text as given (trimmed). */
  readonly text: string;
}

const VERSION = /^v?(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}))?(.*)$/;

/** Parses a version string; KvmError EINVAL (naming the text) for anything else. */
export function parseKernelVersion(text: string): KernelVersion {
  const t = typeof text === 'string' ? text.trim() : '';
  const m = VERSION.exec(t);
  if (m === null) throw new KvmError('EINVAL', `kernel version must look like 5.4, v5.5.1, 5.5-rc1 or 5.4.0-150-generic, got "${String(text)}"`, 'kernel');
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] === undefined ? null : Number(m[3]);
  const rest = m[4] ?? '';
  if (rest === '') return { major, minor, stable: patch ?? 0, rc: null, vendor: null, text: t };
  const rc = /^-rc(\d{1,3})(?:[-+].*)?$/.exec(rest);
  if (rc !== null) return { major, minor, stable: 0, rc: Number(rc[1]), vendor: null, text: t };
  if (!/^[-+~._][0-9A-Za-z.+~_-]*$/.test(rest)) {
    throw new KvmError('EINVAL', `kernel version "${t}" has an unreadable suffix "${rest}"`, 'kernel');
  }
  if (/\.el\d+/.test(rest)) return { major, minor, stable: null, rc: null, vendor: 'rhel', text: t };
  // Debian/Ubuntu ABI names keep the upstream ".0" and count their own uploads after it.
  if (patch === 0 && /^-\d+/.test(rest)) return { major, minor, stable: null, rc: null, vendor: 'debian-ubuntu', text: t };
  return { major, minor, stable: patch ?? 0, rc: null, vendor: 'other', text: t };
}

/** major.minor of a version, comparable as a number pair. */
export const branchOf = (v: Pick<KernelVersion, 'major' | 'minor'>): string => `${v.major}.${v.minor}`;

/** v ≥ "major.minor" (a release candidate counts as the release it leads to). */
export function atLeastRelease(v: Pick<KernelVersion, 'major' | 'minor'>, release: string): boolean {
  const [maj, min] = release.split('.').map(Number) as [number, number];
  return v.major > maj || (v.major === maj && v.minor >= min);
}
