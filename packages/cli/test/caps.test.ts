import { KVM_CAP_PTP_KVM } from '@kvmlab/ptp-kvm-arm64';
import { describe, expect, it } from 'vitest';
import { capsReport, selectPlugins } from '../src/caps.js';
import { UsageError } from '../src/errors.js';
import { ALL_PLUGIN_FACTORIES as PLUGIN_FACTORIES } from '../src/plugins.js';

const cap = (r: ReturnType<typeof capsReport>, n: number): number | undefined => r.capabilities.find((c) => c.cap === n)?.system;
const probe = (r: ReturnType<typeof capsReport>, name: string): string => r.discovery.find((d) => d.probe === name)?.meaning ?? '';

describe('kvmlab caps: selective composition from the real plugin factories', () => {
  it('the factory table names each plugin as the plugin names itself', () => {
    for (const f of PLUGIN_FACTORIES) expect(f.create().name).toBe(f.name);
    expect(PLUGIN_FACTORIES.map((f) => f.name)).toEqual(['psci-conduit', 'ptp-kvm-arm64', 'ptp-kvm-x86', 'kvm-mmu-pml', 'nvmx-cr3']);
  });

  it('arm64, all plugins: KVM_CAP_PTP_KVM (198) = 1, the guest finds FEATURES and PTP in the vendor-hyp bitmap', () => {
    const r = capsReport('arm64', selectPlugins('arm64', undefined));
    expect(KVM_CAP_PTP_KVM).toBe(198);
    expect(cap(r, KVM_CAP_PTP_KVM)).toBe(1);
    expect(r.discovery.find((d) => d.probe === 'HVC VENDOR_HYP_KVM_FEATURES')?.result).toBe('0x3');
    expect(r.discovery.find((d) => d.probe === 'HVC VENDOR_HYP_CALL_UID')?.result).toBe('0xb66fb428 0xe911c52e 0x564bcaa9 0x743a004d');
    expect(probe(r, 'guest psci_dt_init + kvm_init_hyp_services')).toBe('available: ARM_SMCCC_KVM_FUNC_FEATURES, ARM_SMCCC_KVM_FUNC_PTP');
  });

  it('arm64 without ptp-kvm-arm64: the cap answers 0 and the bitmap loses the PTP bit', () => {
    const r = capsReport('arm64', selectPlugins('arm64', 'psci-conduit'));
    expect(cap(r, KVM_CAP_PTP_KVM)).toBe(0);
    expect(r.discovery.find((d) => d.probe === 'HVC VENDOR_HYP_KVM_FEATURES')?.result).toBe('0x1');
    expect(r.hypercalls.some((h) => h.name === 'ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID')).toBe(false);
  });

  it('arm64 core only: SMCCC calls answer NOT_SUPPORTED and the guest finds no PSCI', () => {
    const r = capsReport('arm64', selectPlugins('arm64', 'none'));
    expect(r.plugins).toEqual([]);
    expect(r.discovery.find((d) => d.probe === 'HVC SMCCC_VERSION')?.result).toBe('0xffffffffffffffff');
    expect(probe(r, 'guest psci_dt_init + kvm_init_hyp_services')).not.toContain('ARM_SMCCC_KVM_FUNC_PTP');
  });

  it('x86_64: KVM_HC_CLOCK_PAIRING only with ptp-kvm-x86; KVM_CAP_PTP_KVM is 0 on x86 either way', () => {
    const all = capsReport('x86_64', selectPlugins('x86_64', 'all'));
    expect(all.hypercalls.map((h) => [h.id, h.name, h.owner])).toEqual([['9', 'KVM_HC_CLOCK_PAIRING', 'ptp-kvm-x86']]);
    expect(cap(all, KVM_CAP_PTP_KVM)).toBe(0);
    expect(probe(all, 'CPUID 0x40000000')).toContain('KVM signature');
    const bare = capsReport('x86_64', selectPlugins('x86_64', 'kvm-mmu-pml,nvmx-cr3'));
    expect(bare.hypercalls).toEqual([]);
  });

  it('x86_64 nested VMX: one engine, hooks filled by kvm-mmu-pml and nvmx-cr3; the guest reads the VMX MSRs', () => {
    const both = capsReport('x86_64', selectPlugins('x86_64', 'kvm-mmu-pml,nvmx-cr3'));
    const owner = (h: string) => both.nestedVmx?.hooks.find((x) => x.hook === h)?.owner;
    expect([owner('prepareVmcs02Cr3'), owner('vmxSetCr3GuestCr3'), owner('flushPml'), owner('nestedEptInit'), owner('decacheCr3')])
      .toEqual(['nvmx-cr3', 'nvmx-cr3', 'kvm-mmu-pml', 'kvm-mmu-pml', null]);
    expect(both.nestedVmx?.params).toEqual({ ept: true, unrestrictedGuest: true, eptAd: true, pml: true, vpid: true });
    expect(cap(both, 157)).toBe(8320); // KVM_CAP_NESTED_STATE
    expect(probe(both, 'CPUID 0x1')).toMatch(/^VMX/);
    expect(probe(both, 'RDMSR IA32_VMX_PROCBASED_CTLS2')).toBe('L1 may enable: EPT, VPID, unrestricted guest, VMCS shadowing, PML');
    expect(probe(both, 'RDMSR IA32_VMX_MISC')).toContain('VMWRITE to any field');
    // nvmx-cr3 alone has no PML log: kvm_intel.pml is off for L0 (L1 is still offered emulated PML)
    expect(capsReport('x86_64', selectPlugins('x86_64', 'nvmx-cr3')).nestedVmx?.params.pml).toBe(false);
    const none = capsReport('x86_64', selectPlugins('x86_64', 'ptp-kvm-x86'));
    expect(none.nestedVmx).toBeNull();
    expect(cap(none, 157)).toBe(0);
    expect(probe(none, 'CPUID 0x1')).toMatch(/^no VMX/);
    expect(none.discovery.some((d) => d.probe.startsWith('RDMSR'))).toBe(false);
  });

  it('composition mistakes are usage errors naming the rule', () => {
    expect(() => capsReport('arm64', selectPlugins('arm64', 'ptp-kvm-arm64'))).toThrow(/requires plugin "psci-conduit"/);
    expect(() => capsReport('arm64', selectPlugins('arm64', 'ptp-kvm-x86'))).toThrow(UsageError);
    expect(() => selectPlugins('x86_64', 'psci,nope')).toThrow(/unknown plugin "psci"/);
  });
});
