/** `kvmlab caps`: KVM_CHECK_EXTENSION and guest-visible discovery for a plugin composition. */
import { Option, type Command } from 'commander';
import type { Arch } from '@kvmlab/hypervisor-core';
import type { psciDtInit } from '@kvmlab/psci-conduit';
import type { CapsHost } from '../caps-report.js';
import { ARCHES, type CliContext } from '../context.js';
import { constantTable } from '../host/constants.js';
import { missingNote, providerOf, type Installed } from '../host/installed.js';
import { wrapText } from '../io/terminal.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';
import { textTable } from '../text-table.js';

/** kvm_intel's module parameter names for the model's fields (module_param_named() in arch/x86/kvm/vmx/vmx.c, v5.4). */
const KVM_INTEL_PARAM: Readonly<Record<string, string>> = { ept: 'ept', eptAd: 'eptad', unrestrictedGuest: 'unrestricted_guest', pml: 'pml', vpid: 'vpid' };

/** The plugins, constant names and guest probe of what is installed. */
export function capsHost(inst: Installed): CapsHost {
  const dtInit = inst.modules.get('@kvmlab/psci-conduit')?.psciDtInit as typeof psciDtInit | undefined;
  return { plugins: inst.plugins, constants: constantTable(inst.constantModules), ...(dtInit !== undefined ? { psciDtInit: dtInit } : {}) };
}

export function registerCaps(program: Command, ctx: CliContext): void {
  program
    .command('caps')
    .description('compose a hypervisor from plugins and show KVM_CHECK_EXTENSION answers and guest discovery')
    .addOption(new Option('--arch <arch>', 'architecture').choices(ARCHES).makeOptionMandatory())
    .option('--plugins <list>', 'comma-separated installed plugin names (e.g. psci-conduit,ptp-kvm-arm64), "all" (default: every installed plugin of the arch) or "none"')
    .option('--json', 'print as JSON (schemaVersion 1, kind "caps")')
    .action(async (opts: { arch: Arch; plugins?: string; json?: boolean }) => {
      const { capsReportOn, selectPlugins } = await import('../caps-report.js');
      const host = capsHost(ctx.installed);
      const rep = capsReportOn(host, opts.arch, selectPlugins(opts.arch, opts.plugins, host.plugins, (n) => providerOf(ctx.installed, 'plugin', n)?.package));
      if (opts.json === true) {
        ctx.io.out(stringifyJson({ schemaVersion: SCHEMA_VERSION, kind: 'caps', ...rep }));
        return;
      }
      const w = ctx.width;
      const caps = textTable(['cap', 'name', '/dev/kvm', 'VM', 'answered by'], rep.capabilities.map((c) => [String(c.cap), c.name, String(c.system), String(c.vm), c.owner ?? '-']), w);
      const calls = rep.hypercalls.length > 0 ? textTable([opts.arch === 'arm64' ? 'SMCCC function' : 'hypercall', 'name', 'handled by'], rep.hypercalls.map((h) => [h.id, h.name, h.owner]), w) : '(none registered)\n';
      const disc = textTable(['guest probe', 'result', 'meaning'], rep.discovery.map((d) => [d.probe, d.result, d.meaning]), w);
      const n = rep.nestedVmx;
      const nested = n === null ? '' : `\nNested VMX (kvm_intel ${Object.entries(n.params).map(([k, v]) => `${KVM_INTEL_PARAM[k] ?? k}=${v ? 'Y' : 'N'}`).join(' ')})\n` +
        textTable(['hook', 'kind', 'filled by', 'kernel'], n.hooks.map((h) => [h.hook, h.kind, h.owner ?? (h.kind === 'default' ? '(engine: 5.3/5.4)' : '-'), h.models]), w);
      const note = missingNote(ctx.installed);
      const tail = note !== undefined ? `\n${note.split('\n').map((l) => wrapText(l, w).join('\n')).join('\n')}\n` : '';
      ctx.io.out(`${wrapText(`${opts.arch} hypervisor with plugins: ${rep.plugins.join(', ') || '(core only)'}`, w).join('\n')}\n\nKVM_CHECK_EXTENSION\n${caps}\n${opts.arch === 'arm64' ? 'SMCCC services' : 'KVM hypercalls'}\n${calls}\nGuest-visible discovery\n${disc}${nested}${tail}`);
    });
}
