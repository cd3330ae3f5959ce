/**
 * PSCI discovery in the guest (drivers/firmware/psci/psci.c): the conduit from a device-tree
 * node or the ACPI FADT, then psci_probe() → psci_init_smccc() → kvm_init_hyp_services().
 * Failures throw a KvmError with the errno the kernel function returns.
 */
import { KvmError, s32, u32 } from '@kvmlab/hypervisor-core';
import type { Vcpu } from '@kvmlab/hypervisor-core';
import {
  ACPI_FADT_PSCI_COMPLIANT,
  ACPI_FADT_PSCI_USE_HVC,
  ARM_SMCCC_VERSION_1_1,
  ARM_SMCCC_VERSION_FUNC_ID,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_VERSION_MAJOR_SHIFT,
  PSCI_VERSION_MINOR_MASK,
} from '../constants.js';
import { GuestFirmware, type GuestConduit } from './firmware.js';
import { kvmInitHypServices, type HypDiscoveryKernel, type HypServices } from './hyp-services.js';

/** A /psci device-tree node. */
export interface DtPsciNode {
  readonly compatible: readonly string[];
  readonly method?: string;
  /** "okay" (default) or "disabled". */
  readonly status?: string;
}

export interface GuestPsci {
  readonly firmware: GuestFirmware;
  /** The KVM vendor services the guest found (all false if discovery never ran). */
  readonly hypServices: HypServices;
  /** Guest kernel log lines (pr_info / pr_err). */
  readonly log: readonly string[];
}

export interface GuestPsciOptions {
  /** Hypervisor-service discovery of which kernel: 'both-conduits' (default, today's: byte UUID compare, any conduit), 'v6.16' (as released: byte compare, HVC only) or 'v5.13' (HVC only, word compare). */
  readonly kernel?: HypDiscoveryKernel;
}

const PSCI_MATCH = ['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci'] as const;

/** models get_set_conduit_method() (drivers/firmware/psci/psci.c). */
function conduitFromMethod(method: string | undefined): GuestConduit {
  if (method === undefined) throw new KvmError('ENXIO', 'PSCI node has no "method" property');
  if (method === 'hvc') return 'hvc';
  if (method === 'smc') return 'smc';
  throw new KvmError('EINVAL', `invalid "method" property: ${method}`);
}

/** models psci_features(). */
function psciFeatures(fw: GuestFirmware, fn: number): number {
  return Number(s32(fw.invokePsciFn(PSCI_1_0_FN_PSCI_FEATURES, BigInt(fn))[0]!));
}

/** models psci_init_smccc(). */
function psciInitSmccc(fw: GuestFirmware): void {
  if (psciFeatures(fw, ARM_SMCCC_VERSION_FUNC_ID) === PSCI_RET_NOT_SUPPORTED) return;
  const ret = Number(u32(fw.invokePsciFn(ARM_SMCCC_VERSION_FUNC_ID)[0]!));
  if (ret >= ARM_SMCCC_VERSION_1_1) fw.smcccVersionInit(ret, fw.psciConduit);
}

/**
 * models psci_probe(): PSCI_VERSION; 0.1 (or < 0.2) is -EINVAL; from 1.0 the SMCCC version is
 * probed and the KVM hypervisor services discovered. 0.2 stops before both.
 */
function psciProbe(fw: GuestFirmware, log: string[], kernel: HypDiscoveryKernel): HypServices {
  const ver = Number(u32(fw.invokePsciFn(PSCI_0_2_FN_PSCI_VERSION)[0]!));
  const major = ver >>> PSCI_VERSION_MAJOR_SHIFT;
  const minor = ver & PSCI_VERSION_MINOR_MASK;
  if (major === 0 && minor < 2) throw new KvmError('EINVAL', 'Conflicting PSCI version detected');
  fw.psciVersion = ver;
  log.push(`psci: PSCIv${major}.${minor} detected in firmware.`);
  if (major >= 1) {
    psciInitSmccc(fw);
    return kvmInitHypServices(fw, log, kernel);
  }
  return kvmInitHypServices(undefined, log);
}

/**
 * models psci_dt_init(): the first PSCI node; "arm,psci" (0.1) takes its function ids from the
 * DT and is never probed, so SMCCC stays 1.0 and no hypervisor service is discovered.
 */
export function psciDtInit(vcpu: Vcpu, nodes: readonly DtPsciNode[], opts: GuestPsciOptions = {}): GuestPsci {
  const node = nodes.find((n) => n.compatible.some((c) => (PSCI_MATCH as readonly string[]).includes(c)));
  if (node === undefined || (node.status !== undefined && node.status !== 'okay')) {
    throw new KvmError('ENODEV', 'no enabled PSCI node in the device tree');
  }
  const fw = new GuestFirmware(vcpu);
  fw.psciConduit = conduitFromMethod(node.method);
  const log: string[] = [];
  const compat = PSCI_MATCH.find((c) => node.compatible.includes(c))!;
  const hypServices = compat === 'arm,psci' ? kvmInitHypServices(undefined, log) : psciProbe(fw, log, opts.kernel ?? 'both-conduits');
  return { firmware: fw, hypServices, log };
}

/** models psci_acpi_init(): FADT PSCI_COMPLIANT or -EOPNOTSUPP; PSCI_USE_HVC picks HVC; always probed. */
export function psciAcpiInit(vcpu: Vcpu, armBootFlags: number, opts: GuestPsciOptions = {}): GuestPsci {
  if ((armBootFlags & ACPI_FADT_PSCI_COMPLIANT) === 0) throw new KvmError('EOPNOTSUPP', 'FADT: PSCI not compliant');
  const fw = new GuestFirmware(vcpu);
  fw.psciConduit = (armBootFlags & ACPI_FADT_PSCI_USE_HVC) !== 0 ? 'hvc' : 'smc';
  const log: string[] = [];
  const hypServices = psciProbe(fw, log, opts.kernel ?? 'both-conduits');
  return { firmware: fw, hypServices, log };
}
