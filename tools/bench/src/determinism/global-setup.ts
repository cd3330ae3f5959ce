/** Before the determinism test: `tsc -b` of the CLI, so the binary it spawns runs today's sources. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cases.js';

export default function setup(): void {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const b = spawnSync(process.execPath, [tsc, '-b', join(ROOT, 'packages/cli/tsconfig.lib.json')], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`tsc -b packages/cli/tsconfig.lib.json failed:\n${b.stdout}${b.stderr}`);
}
