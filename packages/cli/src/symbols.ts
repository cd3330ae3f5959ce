/**
 * Names for numbers, over every feature package imported statically: the playground's view
 * (it bundles all of them). The CLI itself uses host/constants.ts over what is installed.
 */
import * as core from '@kvmlab/hypervisor-core';
import * as kvmMmuPml from '@kvmlab/kvm-mmu-pml';
import * as nvmxCr3 from '@kvmlab/nvmx-cr3';
import * as psciConduit from '@kvmlab/psci-conduit';
import * as ptpKvmArm64 from '@kvmlab/ptp-kvm-arm64';
import * as ptpKvmCore from '@kvmlab/ptp-kvm-core';
import * as ptpKvmX86 from '@kvmlab/ptp-kvm-x86';
import { constantTable, type ConstantTable } from './host/constants.js';

let cache: ConstantTable | undefined;

/** The table over every feature package. */
export function allConstants(): ConstantTable {
  cache ??= constantTable([core, psciConduit, ptpKvmCore, ptpKvmArm64, ptpKvmX86, kvmMmuPml, nvmxCr3] as readonly Readonly<Record<string, unknown>>[]);
  return cache;
}

export const exportedConstants = (): ReadonlyMap<string, number> => allConstants().all;
export const namesByValue = (match: RegExp): ReadonlyMap<number, string> => allConstants().namesByValue(match);
export const constant = (name: string): number | undefined => allConstants().constant(name);
