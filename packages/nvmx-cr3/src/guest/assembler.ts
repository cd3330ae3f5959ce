/** A tiny assembler for L2 subject code (encodings from ../isa.ts), used by guest programs. */
import { leBytes } from '@kvmlab/hypervisor-core';
import { OPC_HLT, OPC_JMP_REL32, OPC_MOV_CR3_RAX, OPC_MOV_RAX_IMM64, OPC_NOP_DISP32, OPC_VMCALL } from '../isa.js';

export type AsmLine =
  | { readonly op: 'hlt' }
  | { readonly op: 'vmcall' }
  | { readonly op: 'mov-cr3'; readonly value: bigint }
  | { readonly op: 'work'; readonly ns: number }
  | { readonly op: 'jmp-start' };

/** Assembles `lines` (position-independent; `jmp-start` jumps back to the first byte). */
export function assemble(lines: readonly AsmLine[]): Uint8Array {
  const out: number[] = [];
  for (const l of lines) {
    switch (l.op) {
      case 'hlt':
        out.push(...OPC_HLT);
        break;
      case 'vmcall':
        out.push(...OPC_VMCALL);
        break;
      case 'mov-cr3':
        out.push(...OPC_MOV_RAX_IMM64, ...leBytes(8, l.value), ...OPC_MOV_CR3_RAX);
        break;
      case 'work':
        out.push(...OPC_NOP_DISP32, ...leBytes(4, BigInt(l.ns >>> 0)));
        break;
      case 'jmp-start': {
        const rel = -BigInt(out.length + 5);
        out.push(...OPC_JMP_REL32, ...leBytes(4, BigInt.asUintN(32, rel)));
        break;
      }
    }
  }
  return Uint8Array.from(out);
}
