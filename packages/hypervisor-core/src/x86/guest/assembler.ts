/**
 * A small assembler for guest code placed in memory (the encodings of ../isa.ts), for L2 code
 * that the processor fetches at RIP.
 */
import { leBytes } from '../../bigint.js';
import {
  OPC_ADD_RDI_IMM32, OPC_HLT, OPC_IN_AL_DX, OPC_INC_MRDI, OPC_JMP_REL32, OPC_MOV_CR3_RAX, OPC_MOV_EDX_IMM32, OPC_MOV_MRDI_RAX,
  OPC_MOV_RAX_IMM64, OPC_MOV_RAX_MRDI, OPC_MOV_RDI_IMM64, OPC_NOP_DISP32, OPC_OUT_DX_AL, OPC_VMCALL,
} from '../isa.js';

export type AsmLine =
  | { readonly op: 'hlt' }
  | { readonly op: 'vmcall' }
  /** MOV RAX, value; MOV CR3, RAX. */
  | { readonly op: 'mov-cr3'; readonly value: bigint }
  /** A burst of `ns` of ordinary work (the model's long-NOP convention). */
  | { readonly op: 'work'; readonly ns: number }
  /** MOV RDI, gpa; MOV RAX, value; MOV [RDI], RAX — an 8-byte store. */
  | { readonly op: 'store'; readonly gpa: bigint; readonly value: bigint }
  /** MOV RDI, gpa; MOV RAX, [RDI]. */
  | { readonly op: 'load'; readonly gpa: bigint }
  /** MOV RDI, gpa; INC QWORD [RDI] — a read-modify-write, so the page's content changes every time. */
  | { readonly op: 'inc'; readonly gpa: bigint }
  | { readonly op: 'mov-rax'; readonly value: bigint }
  | { readonly op: 'mov-rdi'; readonly value: bigint }
  | { readonly op: 'add-rdi'; readonly value: number }
  /** MOV [RDI], RAX */
  | { readonly op: 'store-rdi' }
  /** MOV EDX, port; IN AL, DX */
  | { readonly op: 'in'; readonly port: number }
  /** MOV EDX, port; MOV RAX, value; OUT DX, AL */
  | { readonly op: 'out'; readonly port: number; readonly value: number }
  /** JMP back to the first byte. */
  | { readonly op: 'jmp-start' };

/** Assembles `lines` (position-independent; `jmp-start` jumps back to the first byte). */
export function assemble(lines: readonly AsmLine[]): Uint8Array {
  const out: number[] = [];
  const movRax = (v: bigint): void => void out.push(...OPC_MOV_RAX_IMM64, ...leBytes(8, v));
  const movRdi = (v: bigint): void => void out.push(...OPC_MOV_RDI_IMM64, ...leBytes(8, v));
  const movEdx = (port: number): void => void out.push(...OPC_MOV_EDX_IMM32, ...leBytes(4, BigInt(port & 0xffff)));
  for (const l of lines) {
    switch (l.op) {
      case 'hlt':
        out.push(...OPC_HLT);
        break;
      case 'vmcall':
        out.push(...OPC_VMCALL);
        break;
      case 'mov-cr3':
        movRax(l.value);
        out.push(...OPC_MOV_CR3_RAX);
        break;
      case 'work':
        out.push(...OPC_NOP_DISP32, ...leBytes(4, BigInt(l.ns >>> 0)));
        break;
      case 'store':
        movRdi(l.gpa);
        movRax(l.value);
        out.push(...OPC_MOV_MRDI_RAX);
        break;
      case 'load':
        movRdi(l.gpa);
        out.push(...OPC_MOV_RAX_MRDI);
        break;
      case 'inc':
        movRdi(l.gpa);
        out.push(...OPC_INC_MRDI);
        break;
      case 'mov-rax':
        movRax(l.value);
        break;
      case 'mov-rdi':
        movRdi(l.value);
        break;
      case 'add-rdi':
        out.push(...OPC_ADD_RDI_IMM32, ...leBytes(4, BigInt.asUintN(32, BigInt(l.value))));
        break;
      case 'store-rdi':
        out.push(...OPC_MOV_MRDI_RAX);
        break;
      case 'in':
        movEdx(l.port);
        out.push(...OPC_IN_AL_DX);
        break;
      case 'out':
        movEdx(l.port);
        movRax(BigInt(l.value));
        out.push(...OPC_OUT_DX_AL);
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
