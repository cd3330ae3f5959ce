/**
 * The import graph of a package's sources as dpdm parses it (type-only imports included: a
 * layer must read on its own, whether it needs another's values or only its shapes), restricted
 * to the files of one folder, and the cycles in it.
 */
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every file reachable from `entry` (repo-relative), with the imports between them. */
export async function importTree(entry: string): Promise<DependencyTree> {
  return parseDependencyTree([entry], {
    context: REPO,
    transform: false, // keep `import type`: shapes count as dependencies
    skipDynamicImports: false,
    include: /\.ts$/,
    exclude: /node_modules|\/dist\//,
    extensions: ['.ts', '.js'],
    js: ['.ts', '.js'],
    tsconfig: join(REPO, 'tsconfig.base.json'),
  });
}

/** The cycles among the files under `folder` (repo-relative), each as its list of files. */
export function cyclesWithin(tree: DependencyTree, folder: string): string[][] {
  const inside = (f: string): boolean => !relative(folder, f).startsWith('..');
  const sub: DependencyTree = {};
  for (const [file, deps] of Object.entries(tree)) {
    if (!inside(file)) continue;
    sub[file] = deps === null ? null : deps.filter((d) => d.id !== null && inside(d.id));
  }
  return parseCircular(sub);
}
