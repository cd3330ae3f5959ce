import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { cellOf, defaultCell, parseVariantCell, selectVariants, variantCellName, variantCellNames, variantCells, type VariantAxes } from '../src/scenario-variants.js';

const RUNS = process.env.KVMLAB_SOAK ? 2000 : 200;

/** The x86 pair as a composing scenario declares it. */
const AXES = { 'kvm-mmu-pml': ['pre-fix', 'merged'], 'nvmx-cr3': ['pre-fix', 'rfc-muen', 'merged'] } as const;
const DEF = { name: 'pair', variantAxes: AXES, variants: variantCellNames(AXES), defaultVariant: 'kvm-mmu-pml=merged,nvmx-cr3=merged' };
const SINGLE = { name: 'single', variants: ['pre-fix', 'rfc-muen', 'merged'], defaultVariant: 'merged' };

describe('cells of the product', () => {
  it('variantCells lists the product first axis outermost (row-major for a 2-axis matrix)', () => {
    expect(variantCells(AXES)).toEqual([
      { 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'pre-fix' },
      { 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'rfc-muen' },
      { 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'merged' },
      { 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'pre-fix' },
      { 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'rfc-muen' },
      { 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'merged' },
    ]);
  });

  it('a cell name follows the axes declaration order, not the order the cell object was built in', () => {
    expect(variantCellName(AXES, { 'nvmx-cr3': 'rfc-muen', 'kvm-mmu-pml': 'pre-fix' })).toBe('kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen');
    expect(variantCellNames(AXES)[4]).toBe('kvm-mmu-pml=merged,nvmx-cr3=rfc-muen');
  });
});

describe('parseVariantCell', () => {
  const defaults = { 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'merged' };

  it('a partial spec takes the other axes from the defaults; spaces around parts are allowed', () => {
    expect(parseVariantCell(AXES, 'nvmx-cr3=pre-fix', defaults)).toEqual({ 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'pre-fix' });
    expect(parseVariantCell(AXES, ' nvmx-cr3 = rfc-muen , kvm-mmu-pml=pre-fix', defaults)).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'rfc-muen' });
  });

  const bad: readonly [string, string, RegExp][] = [
    ['unknown axis', 'ept=off', /no variant axis "ept" \(axes: kvm-mmu-pml, nvmx-cr3\)/],
    ['an inherited property name is no axis', 'constructor=merged', /no variant axis "constructor"/],
    ['unknown value', 'nvmx-cr3=rfc', /axis nvmx-cr3 has no variant "rfc" \(variants: pre-fix, rfc-muen, merged\)/],
    ['axis twice', 'nvmx-cr3=merged,nvmx-cr3=pre-fix', /variant axis "nvmx-cr3" is given twice/],
    ['no value', 'nvmx-cr3=', /"nvmx-cr3=" is not axis=variant/],
    ['no axis', '=merged', /"=merged" is not axis=variant/],
    ['two =', 'nvmx-cr3=merged=x', /"nvmx-cr3=merged=x" is not axis=variant/],
    ['empty part', 'nvmx-cr3=merged,', /"" is not axis=variant/],
  ];
  for (const [name, text, message] of bad) {
    it(`${name}: "${text}" is a RangeError naming it`, () => {
      expect(() => parseVariantCell(AXES, text, defaults)).toThrow(RangeError);
      expect(() => parseVariantCell(AXES, text, defaults)).toThrow(message);
    });
  }
});

describe('a scenario\'s selection', () => {
  it('defaultCell parses defaultVariant; a single-axis scenario has none', () => {
    expect(defaultCell(DEF)).toEqual({ 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'merged' });
    expect(defaultCell({ ...DEF, defaultVariant: 'kvm-mmu-pml=pre-fix' })).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'pre-fix' });
    expect(defaultCell(SINGLE)).toBeUndefined();
  });

  it('selectVariants: all, a partial cell (defaults from defaultVariant), a whole cell in any axis order', () => {
    expect(selectVariants(DEF, 'all')).toEqual(DEF.variants);
    expect(selectVariants(DEF, 'kvm-mmu-pml=pre-fix')).toEqual(['kvm-mmu-pml=pre-fix,nvmx-cr3=merged']);
    expect(selectVariants(DEF, 'nvmx-cr3=rfc-muen,kvm-mmu-pml=pre-fix')).toEqual(['kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen']);
    expect(() => selectVariants(DEF, 'merged')).toThrow(/scenario pair has no variant "merged" \(give axis=variant for kvm-mmu-pml, nvmx-cr3, or all\)/);
  });

  it('selectVariants on a single-axis scenario: a name, all, and a RangeError listing the variants', () => {
    expect(selectVariants(SINGLE, 'rfc-muen')).toEqual(['rfc-muen']);
    expect(selectVariants(SINGLE, 'all')).toEqual(SINGLE.variants);
    expect(() => selectVariants(SINGLE, 'rfc')).toThrow(/scenario single has no variant "rfc" \(variants: pre-fix, rfc-muen, merged, or all\)/);
    expect(() => selectVariants(SINGLE, 'a=b')).toThrow(RangeError);
  });

  it('cellOf: each axis\'s variant of a cell name; undefined for a single-axis scenario', () => {
    expect(cellOf(DEF, 'kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen')).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'rfc-muen' });
    expect(cellOf(SINGLE, 'merged')).toBeUndefined();
  });
});

/** 1–4 axes with distinct names, each 1–4 distinct variants; names free of `=`, `,` and spaces. */
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/);
const axesArb = fc
  .uniqueArray(fc.tuple(word, fc.uniqueArray(word, { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 4, selector: ([name]) => name })
  .map((entries): VariantAxes => Object.fromEntries(entries));

describe('properties', () => {
  test.prop([axesArb], { numRuns: RUNS })('variantCells has product-of-lengths cells with distinct names, each name parses back to its cell', (axes) => {
    const cells = variantCells(axes);
    const product = Object.values(axes).reduce((n, vs) => n * vs.length, 1);
    expect(cells).toHaveLength(product);
    const names = cells.map((c) => variantCellName(axes, c));
    expect(new Set(names).size).toBe(product);
    expect(variantCellNames(axes)).toEqual(names);
    const first = Object.fromEntries(Object.entries(axes).map(([a, vs]) => [a, vs[0]!]));
    cells.forEach((cell, i) => {
      const parsed = parseVariantCell(axes, names[i]!, first);
      expect(parsed).toEqual(cell);
      expect(variantCellName(axes, parsed)).toBe(names[i]);
    });
  });

  test.prop([axesArb, fc.nat(), fc.nat()], { numRuns: RUNS })('a one-axis spec changes that axis only; the rest stays the default cell', (axes, ai, vi) => {
    const names = Object.keys(axes);
    const axis = names[ai % names.length]!;
    const value = axes[axis]![vi % axes[axis]!.length]!;
    const cells = variantCells(axes);
    const def = { name: 'p', variantAxes: axes, variants: cells.map((c) => variantCellName(axes, c)), defaultVariant: variantCellName(axes, cells[cells.length - 1]!) };
    const [picked] = selectVariants(def, `${axis}=${value}`);
    expect(cellOf(def, picked!)).toEqual({ ...cells[cells.length - 1]!, [axis]: value });
  });
});
