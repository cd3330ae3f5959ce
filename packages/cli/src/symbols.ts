/**
 * Names for numbers in tables (KVM_CAP_*, KVM_HC_*, KVM_FEATURE_*, SMCCC function ids), taken
 * from the constants each package exports under its kernel name — the CLI defines none itself.
 */
import * as core from '@kvmlab/hypervisor-core';
import * as kvmMmuPml from '@kvmlab/kvm-mmu-pml';
import * as nvmxCr3 from '@kvmlab/nvmx-cr3';
import * as psciConduit from '@kvmlab/psci-conduit';
import * as ptpKvmArm64 from '@kvmlab/ptp-kvm-arm64';
import * as ptpKvmCore from '@kvmlab/ptp-kvm-core';
import * as ptpKvmX86 from '@kvmlab/ptp-kvm-x86';

const MODULES: readonly object[] = [core, psciConduit, ptpKvmCore, ptpKvmArm64, ptpKvmX86, kvmMmuPml, nvmxCr3];

let cache: ReadonlyMap<string, number> | undefined;

/** Every exported integer constant whose name is in UPPER_SNAKE_CASE, first owner wins. */
export function exportedConstants(): ReadonlyMap<string, number> {
  if (cache !== undefined) return cache;
  const m = new Map<string, number>();
  for (const mod of MODULES) {
    for (const [k, v] of Object.entries(mod)) {
      if (!/^[A-Z][A-Z0-9_]+$/.test(k) || m.has(k)) continue;
      if (typeof v === 'number' && Number.isInteger(v)) m.set(k, v);
      else if (typeof v === 'bigint' && v >= 0n && v <= 0xffff_ffffn) m.set(k, Number(v));
    }
  }
  cache = m;
  return m;
}

/** value → name for constants whose name matches (shortest name wins; aliases are rare). */
export function namesByValue(match: RegExp): ReadonlyMap<number, string> {
  const out = new Map<number, string>();
  for (const [k, v] of exportedConstants()) {
    if (!match.test(k)) continue;
    const prev = out.get(v);
    if (prev === undefined || k.length < prev.length) out.set(v, k);
  }
  return out;
}

export function constant(name: string): number | undefined {
  return exportedConstants().get(name);
}
