// Source checkouts only (tests, `npm run cli:dev`): a worker thread does not inherit the
// TypeScript loader of the thread that started it, so this registers tsx and loads worker.ts.
// The built CLI runs dist/sweep/worker.js directly.
import { register } from 'tsx/esm/api';

register();
const { default: runTask } = await import('./worker.ts');
export default runTask;
