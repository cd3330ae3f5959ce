/** `kvmlab caps`: KVM_CHECK_EXTENSION and guest-visible discovery for a plugin composition. */
import { Option, type Command } from 'commander';
import type { Arch } from '@kvmlab/hypervisor-core';
import { ARCHES, type CliContext } from '../context.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';
import { textTable } from '../text-table.js';

export function registerCaps(program: Command, ctx: CliContext): void {
  program
    .command('caps')
    .description('compose a hypervisor from plugins and show KVM_CHECK_EXTENSION answers and guest discovery')
    .addOption(new Option('--arch <arch>', 'architecture').choices(ARCHES).makeOptionMandatory())
    .option('--plugins <list>', 'comma-separated plugin names (e.g. psci-conduit,ptp-kvm-arm64), "all" (default) or "none"')
    .option('--json', 'print as JSON (schemaVersion 1, kind "caps")')
    .action(async (opts: { arch: Arch; plugins?: string; json?: boolean }) => {
      // Loaded here: composing needs every feature package's plugin factory and constants.
      const { capsReport, selectPlugins } = await import('../caps.js');
      const rep = capsReport(opts.arch, selectPlugins(opts.arch, opts.plugins));
      if (opts.json === true) {
        ctx.io.out(stringifyJson({ schemaVersion: SCHEMA_VERSION, kind: 'caps', ...rep }));
        return;
      }
      const caps = textTable(['cap', 'name', '/dev/kvm', 'VM', 'answered by'], rep.capabilities.map((c) => [String(c.cap), c.name, String(c.system), String(c.vm), c.owner ?? '-']));
      const calls = rep.hypercalls.length > 0 ? textTable([opts.arch === 'arm64' ? 'SMCCC function' : 'hypercall', 'name', 'handled by'], rep.hypercalls.map((h) => [h.id, h.name, h.owner])) : '(none registered)\n';
      const disc = textTable(['guest probe', 'result', 'meaning'], rep.discovery.map((d) => [d.probe, d.result, d.meaning]));
      const n = rep.nestedVmx;
      const nested = n === null ? '' : `\nNested VMX (kvm_intel ${Object.entries(n.params).map(([k, v]) => `${k}=${v ? 'Y' : 'N'}`).join(' ')})\n` +
        textTable(['hook', 'kind', 'filled by', 'kernel'], n.hooks.map((h) => [h.hook, h.kind, h.owner ?? (h.kind === 'default' ? '(engine: 5.3/5.4)' : '-'), h.models]));
      ctx.io.out(`${opts.arch} hypervisor with plugins: ${rep.plugins.join(', ') || '(core only)'}\n\nKVM_CHECK_EXTENSION\n${caps}\n${opts.arch === 'arm64' ? 'SMCCC services' : 'KVM hypercalls'}\n${calls}\nGuest-visible discovery\n${disc}${nested}`);
    });
}
