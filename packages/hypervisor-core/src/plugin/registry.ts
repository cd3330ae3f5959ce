/**
 * Everything the installed plugins registered, with the duplicate checks of composition.
 * The hypervisor, its VMs and vCPUs dispatch through it.
 */
import { CompositionError } from '../errors.js';
import type { Mmu } from '../vm/mmu.js';
import type { Vm } from '../vm/vm.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type {
  ArmTrapPolicy,
  NestedVmxBoundary,
  CapabilityDef,
  ExitHandler,
  HypercallHandler,
  OneRegDef,
  SmcccHandler,
} from './types.js';

interface Owned<T> {
  readonly owner: string;
  readonly value: T;
}

export class Registry {
  readonly capabilities = new Map<number, Owned<CapabilityDef>>();
  readonly smccc = new Map<number, Owned<SmcccHandler>>();
  readonly hypercalls = new Map<number, Owned<HypercallHandler>>();
  readonly oneRegs = new Map<bigint, Owned<OneRegDef>>();
  readonly exitHandlers = new Map<string, Owned<ExitHandler>[]>();
  readonly vmCreateHooks: Owned<(vm: Vm) => void>[] = [];
  readonly vcpuCreateHooks: Owned<(vcpu: Vcpu) => void>[] = [];
  readonly decorations = new Map<string, Owned<unknown>>();
  armTrapPolicy: Owned<ArmTrapPolicy> | undefined;
  mmuFactory: Owned<(vm: Vm) => Mmu> | undefined;
  /** The nested-VMX engine, once a plugin enabled it (x86). */
  nestedVmx: NestedVmxBoundary | undefined;

  addCapability(owner: string, cap: number, def: CapabilityDef): void {
    if (!Number.isInteger(cap) || cap < 0) throw new CompositionError('INVALID_PLUGIN', owner, `capability ${cap} is not a KVM_CAP number`);
    const prev = this.capabilities.get(cap);
    if (prev !== undefined) {
      throw new CompositionError('DUPLICATE_CAPABILITY', owner, `capability ${cap} is already answered by "${prev.owner}"`);
    }
    this.capabilities.set(cap, { owner, value: def });
  }

  addSmccc(owner: string, functionId: number, h: SmcccHandler): void {
    if (!Number.isInteger(functionId) || functionId < 0 || functionId > 0xffff_ffff) {
      throw new CompositionError('INVALID_PLUGIN', owner, `SMCCC function id ${functionId} is not a u32`);
    }
    const prev = this.smccc.get(functionId);
    if (prev !== undefined) {
      throw new CompositionError('DUPLICATE_HYPERCALL', owner, `SMCCC function 0x${functionId.toString(16)} is already handled by "${prev.owner}"`);
    }
    this.smccc.set(functionId, { owner, value: h });
  }

  addHypercall(owner: string, nr: number, h: HypercallHandler): void {
    if (!Number.isInteger(nr) || nr < 0) throw new CompositionError('INVALID_PLUGIN', owner, `hypercall ${nr} is not a number`);
    const prev = this.hypercalls.get(nr);
    if (prev !== undefined) {
      throw new CompositionError('DUPLICATE_HYPERCALL', owner, `hypercall ${nr} is already handled by "${prev.owner}"`);
    }
    this.hypercalls.set(nr, { owner, value: h });
  }

  addOneReg(owner: string, id: bigint, def: OneRegDef): void {
    const prev = this.oneRegs.get(id);
    if (prev !== undefined) {
      throw new CompositionError('DUPLICATE_EXTENSION', owner, `ONE_REG 0x${id.toString(16)} is already provided by "${prev.owner}"`);
    }
    this.oneRegs.set(id, { owner, value: def });
  }

  addExitHandler(owner: string, reason: string, h: ExitHandler): void {
    const list = this.exitHandlers.get(reason) ?? [];
    list.push({ owner, value: h });
    this.exitHandlers.set(reason, list);
  }

  setArmTrapPolicy(owner: string, p: ArmTrapPolicy): void {
    if (this.armTrapPolicy !== undefined) {
      throw new CompositionError('DUPLICATE_EXTENSION', owner, `the HVC/SMC trap policy is already set by "${this.armTrapPolicy.owner}"`);
    }
    this.armTrapPolicy = { owner, value: p };
  }

  setMmu(owner: string, f: (vm: Vm) => Mmu): void {
    if (this.mmuFactory !== undefined) {
      throw new CompositionError('DUPLICATE_EXTENSION', owner, `the MMU is already replaced by "${this.mmuFactory.owner}"`);
    }
    this.mmuFactory = { owner, value: f };
  }

  decorate(owner: string, key: string, value: unknown): void {
    const prev = this.decorations.get(key);
    if (prev !== undefined) {
      throw new CompositionError('DUPLICATE_EXTENSION', owner, `decoration "${key}" is already provided by "${prev.owner}"`);
    }
    this.decorations.set(key, { owner, value });
  }
}
