/**
 * The L2 instruction set, now hypervisor-core's (its x86/isa.ts: the processor that runs L2 is
 * the engine's). Re-exported under this package's earlier names.
 */
export {
  decodeX86 as decodeL2, X86_MAX_INSN_LEN as L2_MAX_INSN_LEN, type X86Insn as L2Insn, OPC_HLT, OPC_VMCALL,
  OPC_MOV_RAX_IMM64, OPC_MOV_CR3_RAX, OPC_JMP_REL32, OPC_NOP_DISP32,
} from '@kvmlab/hypervisor-core';
