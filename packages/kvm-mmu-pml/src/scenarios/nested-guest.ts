/**
 * The guests of the nested-migration scenario, written against the architectural boundary
 * only: L1 builds EPT12 in its own memory (2 MiB leaves, L2 chunks shuffled over an L1
 * region, so L2 GPA ≠ L1 GPA), programs its vmcs12 and launches L2; L2 and L1 then write
 * memory at seeded rates. The guest knows its own mapping, which gives the test oracle:
 * the set of L1 pages really written.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  CPU_BASED_VM_EXEC_CONTROL,
  EPT_LARGE_PAGE,
  EPT_POINTER,
  leBytes,
  makeEptp,
  SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_VM_EXEC_CONTROL,
  VMX_EPT_MT_EPTE_SHIFT,
  VMX_EPT_MT_WB,
  VMX_EPT_RWX_MASK,
  type Rng,
  type Vcpu,
} from '@kvmlab/hypervisor-core';
import { l2Vmcall, vmlaunch, vmresume, vmwrite } from '../guest/vmx.js';

const MiB = 1n << 20n;
const CHUNK = 2n * MiB;

export interface NestedLayout {
  /** L1 GPA of EPT12's tables (one PML4, one PDPT, one PD per GiB of L2). */
  readonly tablesBase: bigint;
  /** L1 region backing L2, and L2's size (both multiples of 2 MiB). */
  readonly l1Base: bigint;
  readonly l2Bytes: bigint;
  /** L1's own busy memory ("kernel"). */
  readonly kernelBase: bigint;
  readonly kernelBytes: bigint;
  /** L2 chunk c lives at L1 chunk perm[c] of the region. */
  readonly perm: readonly number[];
}

export function shuffledChunks(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** The L1 GPA behind an L2 GPA, as L1's own EPT12 says. */
export function l2ToL1(l: NestedLayout, l2Gpa: bigint): bigint {
  const c = Number(l2Gpa / CHUNK);
  return l.l1Base + BigInt(l.perm[c]!) * CHUNK + (l2Gpa % CHUNK);
}

const wr64 = (vcpu: Vcpu, gpa: bigint, v: bigint): void => vcpu.write(gpa, leBytes(8, v));

/** L1 writes EPT12 with its own stores (so its table pages are dirty-tracked like any page). */
export function l1BuildEpt12(vcpu: Vcpu, l: NestedLayout, ad: boolean): bigint {
  const rwx = VMX_EPT_RWX_MASK;
  const pml4 = l.tablesBase;
  const pdpt = pml4 + 0x1000n;
  wr64(vcpu, pml4, pdpt | rwx);
  const gibs = Number((l.l2Bytes + (1n << 30n) - 1n) >> 30n);
  for (let g = 0; g < gibs; g++) wr64(vcpu, pdpt + BigInt(g) * 8n, (pdpt + 0x1000n * BigInt(g + 1)) | rwx);
  const chunks = Number(l.l2Bytes / CHUNK);
  for (let c = 0; c < chunks; c++) {
    const pd = pdpt + 0x1000n * BigInt(Math.floor(c / 512) + 1);
    const target = l.l1Base + BigInt(l.perm[c]!) * CHUNK;
    wr64(vcpu, pd + BigInt(c % 512) * 8n, target | rwx | EPT_LARGE_PAGE | (VMX_EPT_MT_WB << VMX_EPT_MT_EPTE_SHIFT));
  }
  return makeEptp(pml4, ad);
}

/** L1 programs vmcs12 (with or without EPT12) and launches L2. */
export function l1LaunchL2(vcpu: Vcpu, eptp12: bigint, useEpt12: boolean): boolean {
  vmwrite(vcpu, CPU_BASED_VM_EXEC_CONTROL, BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
  vmwrite(vcpu, SECONDARY_VM_EXEC_CONTROL, useEpt12 ? BigInt(SECONDARY_EXEC_ENABLE_EPT) : 0n);
  vmwrite(vcpu, EPT_POINTER, eptp12);
  return vmlaunch(vcpu).status === 'succeed';
}

export interface WorkloadSpec {
  readonly wssBytes: bigint;
  readonly hotBytes: bigint;
  readonly hotFraction: number;
}

/** Picks the page a write goes to: hot set with probability hotFraction, else the rest of the WSS. */
export function pickPage(rng: Rng, w: WorkloadSpec): bigint {
  const wssPages = Number(w.wssBytes >> 12n);
  const hotPages = Math.min(wssPages, Number(w.hotBytes >> 12n));
  const hot = hotPages > 0 && (hotPages === wssPages || rng.chance(w.hotFraction));
  return BigInt(hot ? rng.int(0, hotPages - 1) : rng.int(hotPages, wssPages - 1));
}

/** Guest state the scenario drives: a write counter (the stored values) and the oracle. */
export class GuestDriver {
  private counter = 1n;
  /** L1 pages written since the oracle was last reset (gfn numbers). */
  readonly writtenL1 = new Set<number>();
  writes = 0;

  constructor(readonly vcpu: Vcpu, readonly layout: NestedLayout, readonly rng: Rng) {}

  private store(gpa: bigint, l1Gpa: bigint): void {
    const off = BigInt(this.rng.int(0, 511)) * 8n;
    wr64(this.vcpu, gpa + off, this.counter++);
    this.writtenL1.add(Number(l1Gpa >> 12n));
    this.writes++;
  }

  /** L2 stores to L2 page `page` (its address is an L2 GPA, or an L1 GPA without EPT12). */
  l2Write(page: bigint, useEpt12: boolean): void {
    const l2 = page << 12n;
    const l1 = l2ToL1(this.layout, l2);
    this.store(useEpt12 ? l2 : l1, l1);
  }

  /** L1 stores to the same data pages directly (the plain, non-nested workload). */
  l1WriteData(page: bigint): void {
    const l1 = l2ToL1(this.layout, page << 12n);
    this.store(l1, l1);
  }

  /** L1 stores to its own kernel memory. */
  l1WriteKernel(): void {
    const pages = Number(this.layout.kernelBytes >> 12n);
    const gpa = this.layout.kernelBase + (BigInt(this.rng.int(0, pages - 1)) << 12n);
    this.store(gpa, gpa);
  }

  /** L2 leaves to L1 with a VMCALL; L1 resumes it later. */
  exitToL1(): void {
    l2Vmcall(this.vcpu);
  }

  resumeL2(): boolean {
    return vmresume(this.vcpu).status === 'succeed';
  }
}
