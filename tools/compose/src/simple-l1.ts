/**
 * A plain (non-Muen) L1 for the same rig: VMXON, one vmcs12, an EPT12 built with its own stores
 * that maps L2 code page 0x1000 onto L1 0x100000 and L2 data pages 0x100000 + p·4 KiB onto L1
 * MUEN_DATA_GPA + p·4 KiB, and an L2 (machine code) that increments a word of each data page and
 * leaves with VMCALL. Each round: L1 resumes L2 (RIP past the VMCALL), L2 writes, the VMM GETs.
 * It needs no HLT, no scheduler and no preemption timer, so it runs on kvm-mmu-pml alone.
 */
import {
  type AsmLine, assemble, EptBuilder, EXIT_REASON_VMCALL, GUEST_RIP, leBytes, loadVmcs, makeEptp, MSR_IA32_VMX_EPT_VPID_CAP,
  prepareForVmxOperation, prepareVmcs, readLe, VM_EXIT_INSTRUCTION_LEN, VM_EXIT_REASON, VMX_EPT_AD_BIT, vmlaunch, vmreadz,
  vmresume, vmwrite,
} from '@kvmlab/hypervisor-core';
import { MUEN_DATA_GPA, MUEN_SUBJECT_CODE_GPA, MUEN_VMCS_GPA } from '@kvmlab/nvmx-cr3';
import { observe, type Observer } from './observe.js';
import { buildHypervisor, changedPages, createLoggingVm, dataSnapshot, harvest, l2DataGpa, PAGE, type PluginChoice, setL1Sregs } from './rig.js';
import type { FrameRecord } from './muen-rig.js';

const VMXON_GPA = 0x10000n;
const L1_CODE_GPA = 0x100000n;
const EPT12_GPA = 0x200000n;
export const SIMPLE_DATA_PAGES = 2;
/** L2's CR3 (L2 paging is not walked: only its value matters). */
export const SIMPLE_L2_CR3 = 0xa000n;

export interface SimpleRun extends Observer {
  /** Per round, as FrameRecord (subject 0). */
  readonly frames: readonly FrameRecord[];
  readonly hv: ReturnType<typeof buildHypervisor>;
}

export function runSimpleL1(o: PluginChoice & { readonly rounds: number }): SimpleRun {
  const hv = buildHypervisor(o);
  const { vm, vcpu } = createLoggingVm(hv, SIMPLE_DATA_PAGES);
  const obs = observe(hv, vm, vcpu);
  setL1Sregs(hv, vcpu);
  if (!prepareForVmxOperation(vcpu, VMXON_GPA) || !loadVmcs(vcpu, MUEN_VMCS_GPA)) throw new Error('L1 could not enter VMX operation');
  const code: AsmLine[] = [];
  for (let p = 0; p < SIMPLE_DATA_PAGES; p++) code.push({ op: 'inc', gpa: l2DataGpa(p) });
  code.push({ op: 'vmcall' }, { op: 'jmp-start' });
  vcpu.write(L1_CODE_GPA, assemble(code));
  let next = EPT12_GPA;
  const ept = new EptBuilder(
    { readU64: (pa) => readLe(vcpu.read(pa, 8), 0, 8), writeU64: (pa, v) => vcpu.write(pa, leBytes(8, v)) },
    () => {
      const pa = next;
      next += PAGE;
      vcpu.write(pa, new Uint8Array(4096));
      return pa;
    },
  );
  ept.map4k(MUEN_SUBJECT_CODE_GPA, L1_CODE_GPA);
  for (let p = 0; p < SIMPLE_DATA_PAGES; p++) ept.map4k(l2DataGpa(p), MUEN_DATA_GPA + BigInt(p) * PAGE);
  const ad = ((vcpu.rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) ?? 0n) & VMX_EPT_AD_BIT) !== 0n;
  if (!prepareVmcs(vcpu, { guestRip: MUEN_SUBJECT_CODE_GPA, guestCr3: SIMPLE_L2_CR3, eptp: makeEptp(ept.pml4, ad) })) throw new Error('VMWRITE failed');
  harvest(vm);
  const frames: FrameRecord[] = [];
  for (let round = 0; round < o.rounds; round++) {
    obs.frame = round;
    const before = dataSnapshot(vm, SIMPLE_DATA_PAGES);
    const r = round === 0 ? vmlaunch(vcpu) : vmresume(vcpu);
    if (r.status !== 'ok' || Number(vmreadz(vcpu, VM_EXIT_REASON)) !== EXIT_REASON_VMCALL) throw new Error(`round ${round}: L2 did not end in VMCALL (${r.status})`);
    vmwrite(vcpu, GUEST_RIP, vmreadz(vcpu, GUEST_RIP) + vmreadz(vcpu, VM_EXIT_INSTRUCTION_LEN));
    const changed = changedPages(before, dataSnapshot(vm, SIMPLE_DATA_PAGES));
    const d = harvest(vm);
    frames.push({ frame: round, subject: 0, changed, dirtyData: d.data, dirtyKernel: d.kernel });
  }
  return Object.assign(obs, { frames, hv });
}
