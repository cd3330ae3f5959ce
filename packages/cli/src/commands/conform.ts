/** `kvmlab conform`: wired once @kvmlab/linux-kvm exports its conformance API (see README). */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerConform(_program: Command, _ctx: CliContext): void {
  // Not registered yet: @kvmlab/linux-kvm has no exported conformance runner.
}
