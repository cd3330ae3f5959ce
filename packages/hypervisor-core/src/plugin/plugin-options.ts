/**
 * The options object a plugin factory takes (`kvmMmuPml({ variant, enablePml })`), checked when
 * the factory is called, before any hypervisor exists: an unknown key, a value of the wrong type
 * or a variant the package does not model is a CompositionError (code INVALID_OPTION) naming
 * the plugin and the option. The rules are data, turned into a zod schema here, so feature
 * packages need no schema library of their own.
 */
import { z } from 'zod';
import { CompositionError } from '../errors.js';
import { show } from '../validate.js';

export type PluginOptionRule =
  | 'boolean'
  /** A plain object (its own factory or service checks the inside). */
  | 'object'
  | { readonly oneOf: readonly string[] }
  | { readonly bigintAtLeast: bigint };

function schemaOf(rule: PluginOptionRule): z.ZodType {
  if (rule === 'boolean') return z.boolean('must be true or false');
  if (rule === 'object') return z.custom<object>((v) => typeof v === 'object' && v !== null, 'must be an object');
  if ('oneOf' in rule) return z.enum(rule.oneOf as [string, ...string[]], `must be one of ${rule.oneOf.join(' | ')}`);
  const min = rule.bigintAtLeast;
  return z.bigint(`must be a bigint`).refine((v) => v >= min, `must be ≥ ${min}`);
}

/** Checks `opts` against `rules` (every option optional); throws CompositionError INVALID_OPTION. */
export function checkPluginOptions(plugin: string, opts: unknown, rules: Readonly<Record<string, PluginOptionRule>>): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new CompositionError('INVALID_OPTION', plugin, `options ${show(opts)} must be an object`);
  }
  const shape: Record<string, z.ZodType> = {};
  for (const [k, rule] of Object.entries(rules)) shape[k] = schemaOf(rule).optional();
  const r = z.strictObject(shape).safeParse(opts);
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  if (issue.code === 'unrecognized_keys') {
    throw new CompositionError('INVALID_OPTION', plugin, `unknown option "${issue.keys.join('", "')}" (options: ${Object.keys(rules).join(', ')})`);
  }
  const given = (opts as Record<string, unknown>)[key];
  const what = key === 'variant' ? `unknown variant ${show(given)}: ` : `option ${key} ${show(given)} `;
  throw new CompositionError('INVALID_OPTION', plugin, `${what}${issue.message}`);
}
