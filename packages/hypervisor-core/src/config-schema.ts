/**
 * createHypervisor()'s options, checked with zod before anything is built: a value of the wrong
 * type (a seed of 1.5, plugins that are not plugins, a host counter rate given as a number) is a
 * CompositionError with code INVALID_OPTION naming the option, rather than a TypeError from deep
 * inside set-up. Ranges that only the host clock knows (a zero rate) stay its RangeErrors.
 */
import { z } from 'zod';
import { CompositionError } from './errors.js';
import { show } from './validate.js';

const plugin = z.custom<object>(
  (p) => typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string' && typeof (p as { setup?: unknown }).setup === 'function',
  'must be plugins (objects with a name and a setup function, from definePlugin or a package factory)',
);

const host = z.strictObject({
  clocksource: z.string('must be a string').optional(),
  counterHz: z.bigint('must be a bigint (Hz)').optional(),
  counterStart: z.bigint('must be a bigint').optional(),
  realtimeStartNs: z.bigint('must be a bigint (ns)').optional(),
  driftPpm: z.number('must be a number (ppm)').optional(),
}, 'must be an object of host options');

const options = z.object({
  arch: z.enum(['arm64', 'x86_64'], 'must be arm64 or x86_64'),
  seed: z.number('must be a number').refine(Number.isSafeInteger, 'must be a safe integer').optional(),
  plugins: z.array(plugin, 'must be an array of plugins').optional(),
  host: host.optional(),
  kernel: z.union([z.string(), z.custom<object>((k) => typeof k === 'object' && k !== null && typeof (k as { name?: unknown }).name === 'string')],
    'must be a kernel version string or a KernelLimits object').optional(),
  backports: z.array(z.string(), 'must be an array of commit ids').optional(),
}, 'must be an object');

/** Throws CompositionError INVALID_OPTION (or WRONG_ARCH for an unknown arch, as before). */
export function checkHypervisorOptions(opts: unknown): void {
  const r = options.safeParse(opts);
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const path = issue.path.join('.');
  if (path === 'arch') throw new CompositionError('WRONG_ARCH', 'hypervisor-core', `unknown arch "${String((opts as { arch?: unknown }).arch)}"`);
  const given = path === '' ? opts : issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k], opts);
  throw new CompositionError('INVALID_OPTION', 'hypervisor-core', `option ${path || '(options)'} ${show(given)} ${issue.message}`);
}
