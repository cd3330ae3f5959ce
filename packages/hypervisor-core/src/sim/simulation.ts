import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';

/** `hv.sim`: virtual time plus the hypervisor's one seeded PRNG. */
export class Simulation extends Scheduler {
  readonly rng: Rng;

  constructor(seed: number) {
    super();
    this.rng = new Rng(seed);
  }
}
