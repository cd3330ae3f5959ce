import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { expandRename, parseDiffstat } from '../cover/diffstat.js';
import { parseShortlog } from '../cover/shortlog.js';
import { parseSubject } from '../cover/subject.js';
import { parseVersionHistory } from '../cover/version-history.js';

const RUNS = process.env['KVMLAB_SOAK'] ? 2000 : 100;

describe('subject tags', () => {
  it.each([
    ['[RFC PATCH v4 0/6] Enable ptp_kvm for arm64', ['RFC', 'PATCH'], true, 4, 0, 6, 'Enable ptp_kvm for arm64'],
    ['[PATCH 0/3] KVM: MMU: fix', ['PATCH'], false, 1, 0, 3, 'KVM: MMU: fix'],
    ['[PATCH v2 3/8] KVM: x', ['PATCH'], false, 2, 3, 8, 'KVM: x'],
    ['[PATCH] lone', ['PATCH'], false, 1, undefined, undefined, 'lone'],
    ['[PATCH net-next,v3 1/2] tree tag', ['PATCH', 'net-next'], false, 3, 1, 2, 'tree tag'],
    ['[RFC] [PATCH v19 0/7]   spaced   out', ['RFC', 'PATCH'], true, 19, 0, 7, 'spaced out'],
  ])('%s', (subject, tags, rfc, version, index, total, title) => {
    expect(parseSubject(subject)).toEqual({ ok: true, value: { tags, rfc, version, index, total, title } });
  });

  it.each([
    ['no tag at all', 'no subject tag such as [PATCH v2 0/3]'],
    ['[PATCH 0/3]', 'the subject has a tag but no title'],
    ['[PATCH 4/3] x', 'subject tag counter 4/3 is past the end of the series'],
    ['[GIT PULL] x', 'subject tag [GIT PULL] has neither PATCH nor RFC'],
    ['Re: [PATCH 0/3] x', 'a reply (Re:), not a patch or cover letter'],
  ])('rejects %j', (subject, reason) => {
    expect(parseSubject(subject)).toEqual({ ok: false, reason });
  });
});

describe('version history', () => {
  it('reads the heading forms and item forms, oldest or newest first as written', () => {
    const body = [
      'Intro.',
      '',
      'Changes in v3:',
      ' - one',
      '   continued',
      ' - two',
      '',
      'v1 -> v2:',
      '1. first',
      '2) second',
      '',
      'Changes since v3:',
      '* star item',
      '',
      'Thanks,',
      'Ada',
    ].join('\n');
    expect(parseVersionHistory(body)).toEqual([
      { from: 2, to: 3, items: ['one continued', 'two'] },
      { from: 1, to: 2, items: ['first', 'second'] },
      { from: 3, to: 4, items: ['star item'] },
    ]);
  });

  it('a body without a change log has no history', () => {
    expect(parseVersionHistory('From v1 there were\nno headings here')).toEqual([]);
  });
});

describe('shortlog', () => {
  it('reads several authors and joins wrapped titles', () => {
    const body = ['Ada (2):', '  one', '  two that is', '      wrapped', '', 'Bob (1):', '  three'].join('\n');
    expect(parseShortlog(body, 10)).toEqual({
      patches: [
        { author: 'Ada', title: 'one' },
        { author: 'Ada', title: 'two that is wrapped' },
        { author: 'Bob', title: 'three' },
      ],
      diagnostics: [],
    });
  });
});

describe('diffstat', () => {
  it.each([
    ['drivers/ptp/{ptp_kvm.c => kvm_ptp.c}', 'drivers/ptp/ptp_kvm.c', 'drivers/ptp/kvm_ptp.c'],
    ['{a => b}/c.h', 'a/c.h', 'b/c.h'],
    ['x/{ => sub}/y.c', 'x/y.c', 'x/sub/y.c'],
    ['old.c => new.c', 'old.c', 'new.c'],
  ])('expands the rename %s', (spec, from, to) => {
    expect(expandRename(spec)).toEqual({ from, to });
  });

  it('reads binary files, deletions only, mode lines', () => {
    const body = [' img.png | Bin 0 -> 12 bytes', ' a.c     | 4 ----', ' 2 files changed, 4 deletions(-)', ' delete mode 100644 a.c', ' mode change 100644 => 100755 x.sh', ' create mode 100644 img.png'].join('\n');
    const r = parseDiffstat(body, 1);
    expect(r.diagnostics).toEqual([]);
    expect(r.diffstat).toMatchObject({ files: 2, insertions: 0, deletions: 4, created: ['img.png'], deleted: ['a.c'] });
    expect(r.diffstat?.entries[0]).toEqual({ path: 'img.png', changes: 0, binary: true });
  });

  test.prop([fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_/.-]{0,20}$/), fc.nat(500), fc.nat(500)), { minLength: 1, maxLength: 20 })], { numRuns: RUNS })(
    'whatever the files, the parsed totals equal the written ones and the changes add up',
    (files) => {
      const ins = files.reduce((s, [, i]) => s + i, 0);
      const del = files.reduce((s, [, , d]) => s + d, 0);
      const width = Math.max(...files.map(([p]) => p.length));
      const lines = files.map(([p, i, d]) => ` ${p.padEnd(width)} | ${i + d} ${'+'.repeat(Math.min(i, 9))}${'-'.repeat(Math.min(d, 9))}`.trimEnd());
      lines.push(` ${files.length} file${files.length === 1 ? '' : 's'} changed, ${ins} insertion${ins === 1 ? '' : 's'}(+), ${del} deletion${del === 1 ? '' : 's'}(-)`);
      const r = parseDiffstat(lines.join('\n'), 1);
      expect(r.diagnostics).toEqual([]);
      expect([r.diffstat?.files, r.diffstat?.insertions, r.diffstat?.deletions]).toEqual([files.length, ins, del]);
      expect(r.diffstat?.entries.map((e) => e.path)).toEqual(files.map(([p]) => p));
    },
  );
});
