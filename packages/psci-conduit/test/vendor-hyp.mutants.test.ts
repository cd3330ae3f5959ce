// The vendor-hypervisor service registry and its firmware bitmap, checked edge by edge (issue 22:
// mutation testing found the feature-bit range, the duplicate check and the UUID format
// untested). Rules from arch/arm64/kvm/hypercalls.c (v5.19+: kvm_arm_set_fw_reg_bmap(),
// kvm_smccc_test_fw_bmap()) and include/linux/arm-smccc.h (ARM_SMCCC_KVM_NUM_FUNCS = 128).
import { CompositionError, isKvmError, type Vm } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { ARM_SMCCC_VENDOR_HYP_UID_KVM } from '../src/constants.js';
import { uuidToWords, VendorHypServices, type VendorHypService } from '../src/host/vendor-hyp.js';

const svc = (bit: number, functionId = 0x86000000 + bit, name = `svc${bit}`): VendorHypService => ({
  bit,
  functionId,
  name,
  handler: () => [0n, 0n, 0n, 0n],
});

/** The registry only reads `hasRun` of a VM; the rest of Vm is not involved. */
const fakeVm = (hasRun = false): Vm => ({ hasRun }) as unknown as Vm;

function registry() {
  const installed: string[] = [];
  const r = new VendorHypServices((s) => installed.push(s.name));
  return { r, installed };
}

const compositionCode = (fn: () => void): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof CompositionError ? `${e.code}:${e.plugin}` : `other: ${String(e)}`;
  }
};

const errnoOf = (fn: () => void): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isKvmError(e) ? e.errno : `other: ${String(e)}`;
  }
};

describe('VendorHypServices.register: feature bits 1..127 (bit 0 is FUNC_FEAT, 128 = ARM_SMCCC_KVM_NUM_FUNCS)', () => {
  it.each([1, 2, 64, 126, 127])('accepts bit %d and installs the service once', (bit) => {
    const { r, installed } = registry();
    expect(compositionCode(() => r.register('owner', svc(bit)))).toBe('ok');
    expect(installed).toEqual([`svc${bit}`]);
    expect(r.services.map((s) => s.bit)).toEqual([bit]);
  });

  it.each([0, -1, 128, 129, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses bit %d as INVALID_PLUGIN of the registering plugin, installing nothing',
    (bit) => {
      const { r, installed } = registry();
      expect(compositionCode(() => r.register('ptp-kvm', svc(bit, 0x86000001)))).toBe('INVALID_PLUGIN:ptp-kvm');
      expect(installed).toEqual([]);
      expect(r.services).toEqual([]);
      expect(r.validMask).toBe(1n);
    },
  );

  it('a second service on a taken bit is DUPLICATE_EXTENSION naming the first; the first stays', () => {
    const { r, installed } = registry();
    r.register('a', svc(5, 0x86000005, 'first'));
    let msg = '';
    try {
      r.register('b', svc(5, 0x86000006, 'second'));
    } catch (e) {
      expect(e).toBeInstanceOf(CompositionError);
      expect((e as CompositionError).code).toBe('DUPLICATE_EXTENSION');
      expect((e as CompositionError).plugin).toBe('b');
      msg = (e as Error).message;
    }
    expect(msg).toContain('"first"');
    expect(installed).toEqual(['first']);
    expect(r.services.map((s) => s.name)).toEqual(['first']);
  });

  it('services on different bits all register, and the mask has FUNC_FEAT plus each bit', () => {
    const { r, installed } = registry();
    r.register('a', svc(1));
    r.register('b', svc(3));
    r.register('c', svc(127));
    expect(installed).toEqual(['svc1', 'svc3', 'svc127']);
    expect(r.validMask).toBe((1n << 0n) | (1n << 1n) | (1n << 3n) | (1n << 127n));
  });
});

describe('the per-VM vendor_hyp_bmap', () => {
  it('starts as every implemented service (kvm_arm_init_hypercalls) and is per VM', () => {
    const { r } = registry();
    r.register('a', svc(1));
    r.register('b', svc(2));
    const vm1 = fakeVm();
    const vm2 = fakeVm();
    expect(r.bitmap(vm1)).toBe(0b111n);
    r.setBitmap(vm1, 0b001n);
    expect(r.bitmap(vm1)).toBe(0b001n);
    expect(r.bitmap(vm2)).toBe(0b111n);
  });

  it('allowed() reads exactly the asked bit', () => {
    const { r } = registry();
    r.register('a', svc(1));
    r.register('b', svc(2));
    const vm = fakeVm();
    r.setBitmap(vm, 0b100n);
    expect([0, 1, 2, 3].map((b) => r.allowed(vm, b))).toEqual([false, false, true, false]);
    r.setBitmap(vm, 0b011n);
    expect([0, 1, 2, 3].map((b) => r.allowed(vm, b))).toEqual([true, true, false, false]);
  });

  it('bits outside the implemented services are EINVAL and leave the bitmap as it was', () => {
    const { r } = registry();
    r.register('a', svc(1));
    const vm = fakeVm();
    for (const bad of [0b100n, 1n << 127n, 1n << 128n, 0b111n]) {
      expect(errnoOf(() => r.setBitmap(vm, bad))).toBe('EINVAL');
      expect(r.bitmap(vm)).toBe(0b11n);
    }
    expect(errnoOf(() => r.setBitmap(vm, 0n))).toBe('ok');
    expect(r.bitmap(vm)).toBe(0n);
  });

  it('after the VM has run, a different bitmap is EBUSY and the same one is accepted', () => {
    const { r } = registry();
    r.register('a', svc(1));
    const vm = fakeVm(true);
    expect(errnoOf(() => r.setBitmap(vm, 0b01n))).toBe('EBUSY');
    expect(r.bitmap(vm)).toBe(0b11n);
    expect(errnoOf(() => r.setBitmap(vm, 0b11n))).toBe('ok');
    expect(r.bitmap(vm)).toBe(0b11n);
  });

  it('callAllowed: UID and FEATURES need FUNC_FEAT, a service needs its own bit, other ids pass', () => {
    const { r } = registry();
    r.register('a', svc(1, 0x86000001));
    const vm = fakeVm();
    const ids = [0x8600ff01, 0x86000000, 0x86000001, 0x86000002];
    expect(ids.map((id) => r.callAllowed(vm, id))).toEqual([true, true, true, true]);
    r.setBitmap(vm, 0b10n);
    expect(ids.map((id) => r.callAllowed(vm, id))).toEqual([false, false, true, true]);
    r.setBitmap(vm, 0b01n);
    expect(ids.map((id) => r.callAllowed(vm, id))).toEqual([true, true, false, true]);
  });
});

describe('uuidToWords: a UUID string as the four SMCCC UID words (arm-smccc.h)', () => {
  it("KVM's UID gives ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0..3", () => {
    expect(uuidToWords(ARM_SMCCC_VENDOR_HYP_UID_KVM)).toEqual([0xb66fb428n, 0xe911c52en, 0x564bcaa9n, 0x743a004dn]);
  });

  it('accepts upper case and the dash-free form alike', () => {
    const words = uuidToWords('28b46fb6-2ec5-11e9-a9ca-4b564d003a74');
    expect(uuidToWords('28B46FB6-2EC5-11E9-A9CA-4B564D003A74')).toEqual(words);
    expect(uuidToWords('28b46fb62ec511e9a9ca4b564d003a74')).toEqual(words);
  });

  it('byte i of the UUID is byte i % 4 of word i / 4, little-endian', () => {
    expect(uuidToWords('00112233-4455-6677-8899-aabbccddeeff')).toEqual([0x33221100n, 0x77665544n, 0xbbaa9988n, 0xffeeddccn]);
  });

  it.each([
    ['31 hex digits', '28b46fb6-2ec5-11e9-a9ca-4b564d003a7'],
    ['33 hex digits', '28b46fb6-2ec5-11e9-a9ca-4b564d003a740'],
    ['a non-hex digit', '28b46fb6-2ec5-11e9-a9ca-4b564d003a7g'],
    ['text before it', 'x28b46fb6-2ec5-11e9-a9ca-4b564d003a74'],
    ['text after it', '28b46fb6-2ec5-11e9-a9ca-4b564d003a74x'],
    ['the empty string', ''],
  ])('refuses %s with a RangeError naming the value', (_what, s) => {
    expect(() => uuidToWords(s)).toThrow(RangeError);
    expect(() => uuidToWords(s)).toThrow(`not a UUID: ${s}`);
  });
});

describe('errors name the argument at fault (KvmError.argument)', () => {
  it('setBitmap: value', () => {
    const { r } = registry();
    const arg = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return isKvmError(e) ? `${e.errno} ${e.argument}` : String(e);
      }
      return 'ok';
    };
    expect(arg(() => r.setBitmap(fakeVm(), 4n))).toBe('EINVAL value');
    expect(arg(() => r.setBitmap(fakeVm(true), 0n))).toBe('EBUSY value');
  });
});
