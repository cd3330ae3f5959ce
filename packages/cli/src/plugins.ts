/**
 * The plugin factories `kvmlab caps` can compose, by plugin name. Each is the feature
 * package's own factory with its default (merged) variant.
 */
import type { Arch, Plugin } from '@kvmlab/hypervisor-core';

export interface PluginFactory {
  readonly name: string;
  readonly package: string;
  readonly arches: readonly Arch[];
  readonly create: () => Plugin;
}

export const PLUGIN_FACTORIES: readonly PluginFactory[] = [];
