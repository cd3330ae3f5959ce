/**
 * An example plugin, small but real: KVM_HC_MAP_GPA_RANGE forwarded to userspace, as
 * arch/x86/kvm/x86.c does it (Linux 5.17+). The VMM enables KVM_CAP_EXIT_HYPERCALL with a
 * bitmask of hypercalls to forward; the guest's VMCALL then becomes a KVM_EXIT_HYPERCALL the
 * VMM answers. Without the cap enabled the hypercall is -KVM_ENOSYS.
 */
import {
  definePlugin,
  KVM_CAP_EXIT_HYPERCALL,
  KVM_EINVAL,
  KVM_ENOSYS,
  KVM_HC_MAP_GPA_RANGE,
  KvmError,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';

/** KVM_EXIT_HYPERCALL_VALID_MASK: the hypercalls that may exit to userspace (x86.c). */
export const KVM_EXIT_HYPERCALL_VALID_MASK = 1n << BigInt(KVM_HC_MAP_GPA_RANGE);

export interface MapGpaRangeRequest {
  readonly gpa: bigint;
  readonly npages: bigint;
  readonly attrs: bigint;
}

/** The VMM's side: handle the exit and return the hypercall's result (0 = success). */
export type MapGpaRangeHandler = (vcpu: Vcpu, req: MapGpaRangeRequest) => bigint;

export function mapGpaRange(handler: MapGpaRangeHandler) {
  const enabled = new WeakMap<Vm, bigint>();
  return definePlugin({
    name: 'map-gpa-range',
    arch: 'x86_64',
    setup(ctx) {
      ctx.capability(KVM_CAP_EXIT_HYPERCALL, {
        check: () => Number(KVM_EXIT_HYPERCALL_VALID_MASK),
        enable: (vm, args) => {
          const mask = args[0] ?? 0n;
          if ((mask & ~KVM_EXIT_HYPERCALL_VALID_MASK) !== 0n) {
            throw new KvmError('EINVAL', `hypercall mask 0x${mask.toString(16)} has unsupported bits`, 'args');
          }
          enabled.set(vm, mask);
        },
      });
      ctx.hypercall(KVM_HC_MAP_GPA_RANGE, (vcpu, { a0: gpa, a1: npages, a2: attrs }) => {
        const mask = enabled.get(vcpu.vm) ?? 0n;
        if ((mask & KVM_EXIT_HYPERCALL_VALID_MASK) === 0n) return -BigInt(KVM_ENOSYS);
        const gfn = gpa >> 12n;
        if ((gpa & 0xfffn) !== 0n || npages === 0n || gfn + npages <= gfn || gfn + npages >= 1n << 52n) {
          return -BigInt(KVM_EINVAL);
        }
        vcpu.countExit('hypercall');
        return handler(vcpu, { gpa, npages, attrs });
      });
    },
  });
}
