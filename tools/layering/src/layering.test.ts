import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cyclesWithin, importTree, REPO } from './import-graph.js';

const CORE = 'packages/hypervisor-core/src/index.ts';

describe('layers read bottom-up: no import cycles between files (type-only imports count)', () => {
  const scopes: [entry: string, folder: string][] = [
    [CORE, 'packages/hypervisor-core/src/x86'],
    ['packages/kvm-mmu-pml/src/index.ts', 'packages/kvm-mmu-pml/src/host'],
    ['packages/kvm-mmu-pml/src/index.ts', 'packages/kvm-mmu-pml/src'],
    ['packages/nvmx-cr3/src/index.ts', 'packages/nvmx-cr3/src'],
    ['packages/x86-compose/src/index.ts', 'packages/x86-compose/src'],
  ];
  for (const [entry, folder] of scopes) {
    it(folder, async () => {
      const tree = await importTree(entry);
      expect(Object.keys(tree).filter((f) => f.startsWith(folder)).length).toBeGreaterThan(3); // the scope was parsed
      expect(cyclesWithin(tree, folder)).toEqual([]);
    });
  }

  it('the nested-VMX shapes module is types only: every import is `import type`, and it exports no value', () => {
    const src = readFileSync(join(REPO, 'packages/hypervisor-core/src/x86/nested/shapes.ts'), 'utf8');
    const imports = src.split('\n').filter((l) => /^import\b/.test(l));
    expect(imports.length).toBeGreaterThan(3);
    expect(imports.filter((l) => !l.startsWith('import type '))).toEqual([]);
    expect(src.split('\n').filter((l) => /^export (const|function|class|let|enum)\b/.test(l))).toEqual([]);
  });
});

describe('the check itself finds a cycle', () => {
  it('a two-file cycle in a synthetic tree', () => {
    const tree = {
      'a/x.ts': [{ issuer: 'a/x.ts', request: './y.js', kind: 0, id: 'a/y.ts' }],
      'a/y.ts': [{ issuer: 'a/y.ts', request: './x.js', kind: 0, id: 'a/x.ts' }],
      'b/z.ts': [{ issuer: 'b/z.ts', request: '../a/x.js', kind: 0, id: 'a/x.ts' }],
    } as never;
    expect(cyclesWithin(tree, 'a')).toEqual([['a/x.ts', 'a/y.ts']]);
    expect(cyclesWithin(tree, 'b')).toEqual([]);
  });
});
