/**
 * `kvmlab sweep nvmx-hlt-cr3 --randomize`: the subject schedule each run draws from its seed —
 * how long it runs (minor frames), the scheduler tick (VMX-preemption timer per frame), how
 * often device interrupts cut a frame short, and what Muen does when its check fires. EPT
 * stays on: without it the bug cannot happen, which a sweep shows with `--set enableEpt=false`.
 */
import { logUniform, logUniformInt, oneOf, type ScenarioRandomize } from '@kvmlab/hypervisor-core';

export const nvmxHltCr3Randomize: ScenarioRandomize = {
  frames: logUniformInt(40, 800),
  tickUs: logUniformInt(20, 2000),
  irqPerMs: logUniform(0.05, 20),
  onCorruption: oneOf(['repair', 'halt']),
};
