/**
 * `kvmlab caps`: compose a hypervisor from chosen plugins and show what it offers — the host
 * view (KVM_CHECK_EXTENSION on /dev/kvm and on a VM, hypercalls and their owners) and the
 * guest view, probed from a vCPU through the architectural boundary only (arm64: SMCCC calls;
 * x86: CPUID leaves 0x40000000/0x40000001 and 1, and the VMX capability MSRs an L1 reads) — and,
 * on x86, the nested-VMX engine: kvm_intel's parameters and which plugin fills which hook.
 * Only what the CapsHost offers (the installed packages) can be composed or named.
 */
import {
  CompositionError, createHypervisor, CPUID_1_ECX_VMX, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_MISC, MSR_IA32_VMX_PROCBASED_CTLS2,
  NVMX_OPS_TABLE, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML, SECONDARY_EXEC_ENABLE_VPID, SECONDARY_EXEC_SHADOW_VMCS,
  SECONDARY_EXEC_UNRESTRICTED_GUEST, u32, VMX_EPT_AD_BIT, VMX_EPT_INVEPT_BIT, VMX_MISC_ACTIVITY_HLT,
  MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS, type Arch, type Hypervisor, type KvmIntelParams, type Vcpu,
} from '@kvmlab/hypervisor-core';
import type { psciDtInit as PsciDtInit } from '@kvmlab/psci-conduit';
import { UsageError } from './errors.js';
import type { ConstantTable } from './host/constants.js';
import type { PluginFactory } from './host/feature-packages.js';

/**
 * What a caps report can use: the plugin factories and constant names of the hosted packages,
 * and psci-conduit's guest-side psci_dt_init() when that package is installed.
 */
export interface CapsHost {
  readonly plugins: readonly PluginFactory[];
  readonly constants: ConstantTable;
  readonly psciDtInit?: typeof PsciDtInit;
}

export interface CapsReport {
  readonly arch: Arch;
  readonly plugins: readonly string[];
  readonly capabilities: readonly { cap: number; name: string; system: number; vm: number; owner: string | null }[];
  readonly hypercalls: readonly { id: string; name: string; owner: string }[];
  readonly discovery: readonly { probe: string; result: string; meaning: string }[];
  /** x86 with nested VMX: kvm_intel after hardware_setup(), and every engine hook with its owner. */
  readonly nestedVmx: {
    readonly params: KvmIntelParams;
    readonly hooks: readonly { hook: string; kind: 'default' | 'optional'; owner: string | null; models: string }[];
  } | null;
}

const hex = (v: bigint | number, width = 0): string => `0x${v.toString(16).padStart(width, '0')}`;

/** Plugin names for `--plugins` ('all' or undefined: every plugin of the arch; 'none': core only). */
export function selectPlugins(arch: Arch, list: string | undefined, factories: readonly PluginFactory[], notInstalled: (name: string) => string | undefined = () => undefined): readonly string[] {
  const forArch = factories.filter((f) => f.arches.includes(arch)).map((f) => f.name);
  if (list === undefined || list === 'all') return forArch;
  if (list === 'none' || list.trim() === '') return [];
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    const f = factories.find((x) => x.name === n);
    if (f === undefined) {
      const pkg = notInstalled(n);
      if (pkg !== undefined) throw new UsageError(`plugin "${n}" is not installed: it comes with ${pkg}`);
      const known = factories.map((x) => x.name);
      throw new UsageError(`unknown plugin "${n}" (installed: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
    // Refused here, before composing, with the rule: the same mistake composition would name.
    if (!f.arches.includes(arch)) throw new UsageError(`plugin "${n}" runs on ${f.arches.join(', ')}, not on ${arch}`);
  }
  return names;
}

function compose(host: CapsHost, arch: Arch, names: readonly string[]): Hypervisor {
  const plugins = names.map((n) => host.plugins.find((f) => f.name === n)!.create());
  try {
    return createHypervisor({ arch, seed: 0, plugins });
  } catch (e) {
    // A composition mistake is the caller's: say what composition refused.
    if (e instanceof CompositionError) throw new UsageError(`cannot compose ${names.join(', ') || 'core'} on ${arch}: ${e.message}`);
    throw e;
  }
}

function armDiscovery(host: CapsHost, vcpu: Vcpu): CapsReport['discovery'] {
  const { constant, namesByValue } = host.constants;
  const out: { probe: string; result: string; meaning: string }[] = [];
  const call = (name: string, extra: readonly bigint[] = []): readonly bigint[] | undefined => {
    const fid = constant(name);
    if (fid === undefined) return undefined;
    return vcpu.hvc([BigInt(fid), ...extra]);
  };
  const notSupported = (x0: bigint): boolean => x0 === 0xffff_ffff_ffff_ffffn;
  const psci = call('PSCI_0_2_FN_PSCI_VERSION');
  if (psci !== undefined) {
    const v = u32(psci[0]!);
    out.push({ probe: 'HVC PSCI_VERSION', result: hex(psci[0]!), meaning: notSupported(psci[0]!) ? 'NOT_SUPPORTED (-1): no PSCI, so no SMCCC discovery' : `PSCI ${v >> 16n}.${v & 0xffffn}` });
  }
  const ver = call('ARM_SMCCC_VERSION_FUNC_ID');
  if (ver !== undefined) {
    const v = u32(ver[0]!);
    out.push({ probe: 'HVC SMCCC_VERSION', result: hex(ver[0]!), meaning: notSupported(ver[0]!) ? 'not supported (SMCCC 1.0)' : `SMCCC ${v >> 16n}.${v & 0xffffn}` });
  }
  const uid = call('ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID');
  if (uid !== undefined) {
    const words = uid.map((w) => hex(u32(w), 8)).join(' ');
    out.push({ probe: 'HVC VENDOR_HYP_CALL_UID', result: notSupported(uid[0]!) ? hex(uid[0]!) : words, meaning: notSupported(uid[0]!) ? 'no vendor hypervisor service' : 'vendor hypervisor UID (compare with the KVM UUID)' });
  }
  const feat = call('ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID');
  if (feat !== undefined) {
    const bitmap = u32(feat[0]!);
    const names = namesByValue(/^ARM_SMCCC_KVM_FUNC_/);
    const set = [...Array(32).keys()].filter((b) => (bitmap >> BigInt(b)) & 1n).map((b) => names.get(b) ?? `bit ${b}`);
    out.push({ probe: 'HVC VENDOR_HYP_KVM_FEATURES', result: hex(feat[0]!), meaning: notSupported(feat[0]!) ? 'not supported' : `services: ${set.join(', ') || 'none'}` });
  }
  // The guest kernel's own view: psci_dt_init() on a "arm,psci-1.0" node with method "hvc"
  // (what a KVM guest's device tree says), then kvm_init_hyp_services().
  if (host.psciDtInit === undefined) return out;
  const noPsci = psci !== undefined && notSupported(psci[0]!);
  try {
    const g = host.psciDtInit(vcpu, [{ compatible: ['arm,psci-1.0'], method: 'hvc' }]);
    const names = namesByValue(/^ARM_SMCCC_KVM_FUNC_/);
    const avail = [...Array(32).keys()].filter((id) => g.hypServices.available(id)).map((id) => names.get(id) ?? `service ${id}`);
    // psci_probe() prints the version word as it came: NOT_SUPPORTED (0xffffffff) reads
    // "PSCIv65535.65535" in a real guest's dmesg too (drivers/firmware/psci/psci.c, v5.4).
    const meaning = `${noPsci ? 'PSCI_VERSION answered NOT_SUPPORTED, which the guest prints as version 65535.65535; ' : ''}available: ${avail.join(', ') || 'none'}`;
    out.push({ probe: 'guest psci_dt_init + kvm_init_hyp_services', result: g.log.join(' | ') || '(no log)', meaning });
  } catch (e) {
    out.push({ probe: 'guest psci_dt_init + kvm_init_hyp_services', result: e instanceof Error ? e.message : String(e), meaning: 'no PSCI: no conduit, no hypervisor services' });
  }
  return out;
}

function x86Discovery(host: CapsHost, vcpu: Vcpu): CapsReport['discovery'] {
  const { constant, namesByValue } = host.constants;
  const sigLeaf = constant('KVM_CPUID_SIGNATURE') ?? 0x4000_0000;
  const [a, b, c, d] = vcpu.cpuid(sigLeaf);
  // The signature's bytes as latin-1 (no Buffer: the playground runs this in a browser worker).
  const ascii = [b, c, d].map((r) => String.fromCharCode(...[0, 8, 16, 24].map((s) => Number((r >> BigInt(s)) & 0xffn)))).join('').replace(/\0/g, '');
  const out = [{ probe: `CPUID ${hex(sigLeaf)}`, result: `eax=${hex(a)} "${ascii}"`, meaning: ascii === 'KVMKVMKVM' ? 'KVM signature; max leaf in EAX' : 'not KVM' }];
  const featLeaf = constant('KVM_CPUID_FEATURES') ?? 0x4000_0001;
  const [fa] = vcpu.cpuid(featLeaf);
  const names = namesByValue(/^KVM_FEATURE_/);
  const set = [...Array(32).keys()].filter((bit) => (fa >> BigInt(bit)) & 1n).map((bit) => names.get(bit) ?? `bit ${bit}`);
  out.push({ probe: `CPUID ${hex(featLeaf)}`, result: `eax=${hex(fa)}`, meaning: `KVM features: ${set.join(', ') || 'none'}` });
  const [, , ecx] = vcpu.cpuid(1);
  const vmx = (ecx & BigInt(CPUID_1_ECX_VMX)) !== 0n;
  out.push({ probe: 'CPUID 0x1', result: `ecx=${hex(ecx)}`, meaning: vmx ? 'VMX: an L1 can run its own guests' : 'no VMX (no nested virtualization)' });
  if (!vmx) return out;
  // What an L1 hypervisor reads before it sets up a vmcs12 (nested_vmx_setup_ctls_msrs()).
  const bits = (v: bigint, named: readonly (readonly [bigint | number, string])[]): string =>
    named.filter(([b]) => (v & BigInt(b)) !== 0n).map(([, n]) => n).join(', ') || 'none';
  const sec = vcpu.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) ?? 0n;
  out.push({ probe: 'RDMSR IA32_VMX_PROCBASED_CTLS2', result: hex(sec, 16), meaning: `L1 may enable: ${bits(sec >> 32n, [
    [SECONDARY_EXEC_ENABLE_EPT, 'EPT'], [SECONDARY_EXEC_ENABLE_VPID, 'VPID'], [SECONDARY_EXEC_UNRESTRICTED_GUEST, 'unrestricted guest'],
    [SECONDARY_EXEC_SHADOW_VMCS, 'VMCS shadowing'], [SECONDARY_EXEC_ENABLE_PML, 'PML']])}` });
  const ept = vcpu.rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) ?? 0n;
  out.push({ probe: 'RDMSR IA32_VMX_EPT_VPID_CAP', result: hex(ept, 16), meaning: `EPT: ${bits(ept, [[VMX_EPT_INVEPT_BIT, 'INVEPT'], [VMX_EPT_AD_BIT, 'A/D bits']])}` });
  const misc = vcpu.rdmsr(MSR_IA32_VMX_MISC) ?? 0n;
  out.push({ probe: 'RDMSR IA32_VMX_MISC', result: hex(misc, 16), meaning: `${bits(misc, [[VMX_MISC_ACTIVITY_HLT, 'HLT activity state'],
    [MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS, 'VMWRITE to any field']])}; preemption timer = TSC >> ${misc & 0x1fn}` });
  return out;
}

function nestedVmxReport(hv: Hypervisor): CapsReport['nestedVmx'] {
  const nested = hv.nestedVmx;
  if (nested === undefined) return null;
  const owners = nested.opsOwners;
  return {
    params: { ...nested.params },
    hooks: NVMX_OPS_TABLE.map((o) => ({ hook: o.name, kind: o.kind, owner: owners.get(o.name) ?? null, models: o.models })),
  };
}

export function capsReportOn(host: CapsHost, arch: Arch, pluginNames: readonly string[]): CapsReport {
  const { namesByValue } = host.constants;
  const hv = compose(host, arch, pluginNames);
  const vm = hv.createVm();
  const capNames = namesByValue(/^KVM_CAP_/);
  const nums = new Set<number>([...capNames.keys(), ...hv.registry.capabilities.keys()]);
  const capabilities = [...nums].sort((x, y) => x - y).map((cap) => ({
    cap,
    name: capNames.get(cap) ?? `cap ${cap}`,
    system: hv.checkExtension(cap),
    vm: vm.checkExtension(cap),
    owner: hv.registry.capabilities.get(cap)?.owner ?? null,
  }));
  const hypercalls =
    arch === 'x86_64'
      ? [...hv.registry.hypercalls].sort(([x], [y]) => x - y).map(([nr, o]) => ({ id: String(nr), name: namesByValue(/^KVM_HC_/).get(nr) ?? `hypercall ${nr}`, owner: o.owner }))
      : [...hv.registry.smccc].sort(([x], [y]) => x - y).map(([fid, o]) => ({ id: hex(fid, 8), name: smcccName(host.constants, fid), owner: o.owner }));
  const vcpu = vm.createVcpu(0);
  const discovery = arch === 'arm64' ? armDiscovery(host, vcpu) : x86Discovery(host, vcpu);
  return { arch, plugins: hv.plugins, capabilities, hypercalls, discovery, nestedVmx: nestedVmxReport(hv) };
}

function smcccName(constants: ConstantTable, fid: number): string {
  for (const [k, v] of constants.all) {
    if (v === fid && /(_FUNC_ID|^PSCI_.*_FN_)/.test(k) && !k.endsWith('_BASE')) return k;
  }
  return 'SMCCC function';
}
