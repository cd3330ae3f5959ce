import { KvmError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import type { Plugin } from '../src/plugin/types.js';
import type { Vm } from '../src/vm/vm.js';

/** An x86 VM; `kernel` as createHypervisor takes it (INITIALLY_SET needs 5.7 or later). */
export function x86Vm(plugins: Plugin[] = [], kernel?: string): Vm {
  return createHypervisor({ arch: 'x86_64', plugins, ...(kernel !== undefined ? { kernel } : {}) }).createVm();
}

/** A comparable picture of every slot (to show that failed calls change nothing). */
export function slotState(vm: Vm): unknown {
  return [0, 1].flatMap((as) =>
    vm.memslots.list(as).map((s) => ({ as, id: s.id, base: s.baseGfn, n: s.npages, flags: s.flags, bm: s.dirtyBitmap?.bytes.length })),
  );
}

/** The errno of the KvmError `f` throws ('not a KvmError' for anything else; undefined if it returns). */
export const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof KvmError ? e.errno : 'not a KvmError';
  }
  return undefined;
};

/** 'ok' if `fn` returns, else the KvmError's errno ('other: …' for anything else). */
export const outcomeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof KvmError ? e.errno : `other: ${String(e)}`;
  }
};

/** `errno argument` of the KvmError `fn` throws (KvmError.argument names the one at fault), 'ok' if it returns. */
export const errnoArgumentOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof KvmError ? `${e.errno} ${e.argument}` : String(e);
  }
  return 'ok';
};
