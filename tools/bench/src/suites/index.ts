import type { Suite } from '../harness.js';
import { coreSuite } from './core.js';
import { demoSuite } from './demo.js';
import { linuxKvmSuite, pmlSuite, scenarioSuite } from './features.js';
import { nestedVmxSuite } from './nested-vmx.js';
import { playgroundSuite } from './playground.js';
import { sweepSuite } from './sweep.js';

/** Every suite `npm run bench` runs, in order (`npm run bench -- <name>…` picks some). */
export const suites: readonly Suite[] = [demoSuite, coreSuite, nestedVmxSuite, pmlSuite, linuxKvmSuite, scenarioSuite, playgroundSuite, sweepSuite];
