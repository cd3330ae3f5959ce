import { CompositionError } from '../errors.js';
import type { Plugin } from './types.js';

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Declares a plugin; checks its shape now so mistakes surface where the plugin is written. */
export function definePlugin<P extends Plugin>(plugin: P): P {
  const name = typeof plugin?.name === 'string' ? plugin.name : '<unnamed>';
  if (!NAME.test(name)) {
    throw new CompositionError('INVALID_PLUGIN', name, 'name must be lower-case letters, digits, ".", "_" or "-"');
  }
  if (typeof plugin.setup !== 'function') {
    throw new CompositionError('INVALID_PLUGIN', name, 'setup must be a function');
  }
  const arches = plugin.arch === undefined ? [] : Array.isArray(plugin.arch) ? plugin.arch : [plugin.arch];
  for (const a of arches) {
    if (a !== 'arm64' && a !== 'x86_64') throw new CompositionError('INVALID_PLUGIN', name, `unknown arch "${String(a)}"`);
  }
  for (const r of plugin.requires ?? []) {
    if (typeof r !== 'string' || r === name) throw new CompositionError('INVALID_PLUGIN', name, `bad requirement "${String(r)}"`);
  }
  return Object.freeze({ ...plugin });
}
