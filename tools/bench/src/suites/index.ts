import type { Suite } from '../harness.js';
import { coreSuite } from './core.js';

/** Every suite `npm run bench` runs, in order. */
export const suites: readonly Suite[] = [coreSuite];
