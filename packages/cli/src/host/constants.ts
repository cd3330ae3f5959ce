/**
 * Names for numbers in tables (KVM_CAP_*, KVM_HC_*, KVM_FEATURE_*, SMCCC function ids), taken
 * from the constants the hosted packages export under their kernel names — the CLI defines
 * none itself, and a package that is not installed contributes none.
 */
export interface ConstantTable {
  /** Every exported integer constant in UPPER_SNAKE_CASE, first owner wins. */
  readonly all: ReadonlyMap<string, number>;
  /** value → name for constants whose name matches (shortest name wins; aliases are rare). */
  namesByValue(match: RegExp): ReadonlyMap<number, string>;
  constant(name: string): number | undefined;
}

export function constantTable(modules: readonly Readonly<Record<string, unknown>>[]): ConstantTable {
  const all = new Map<string, number>();
  for (const mod of modules) {
    for (const [k, v] of Object.entries(mod)) {
      if (!/^[A-Z][A-Z0-9_]+$/.test(k) || all.has(k)) continue;
      if (typeof v === 'number' && Number.isInteger(v)) all.set(k, v);
      else if (typeof v === 'bigint' && v >= 0n && v <= 0xffff_ffffn) all.set(k, Number(v));
    }
  }
  return {
    all,
    namesByValue(match) {
      const out = new Map<number, string>();
      for (const [k, v] of all) {
        if (!match.test(k)) continue;
        const prev = out.get(v);
        if (prev === undefined || k.length < prev.length) out.set(v, k);
      }
      return out;
    },
    constant: (name) => all.get(name),
  };
}
