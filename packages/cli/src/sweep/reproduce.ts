/**
 * The `kvmlab run` command that reproduces one sweep run: same arch, variant, seed, and every
 * option that differs from its default — the randomised draws and --set values spelled out, so
 * the command needs no sweep to replay. `--flag=value` keeps negative numbers unambiguous.
 */
import type { Arch, ScenarioDef } from '@kvmlab/hypervisor-core';
import { optionFlags } from '../scenario-options.js';
import type { OptionValue } from './plan.js';

export function reproduceCommand(def: ScenarioDef, arch: Arch, variant: string, seed: number, options: Readonly<Record<string, OptionValue>>): string {
  const parts = ['kvmlab', 'run', def.name, `--arch=${arch}`, `--variant=${variant}`, `--seed=${seed}`];
  for (const f of optionFlags(def)) {
    const v = options[f.key];
    if (v === undefined || v === f.spec.default) continue;
    if (typeof v === 'boolean') parts.push(v ? `--${f.flag}` : `--no-${f.flag}`);
    else parts.push(`--${f.flag}=${String(v)}`);
  }
  return parts.join(' ');
}
