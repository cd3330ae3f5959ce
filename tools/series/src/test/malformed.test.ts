import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitMbox } from '../mbox/split-mbox.js';
import { readSeries } from '../read-series.js';
import { SEED, coverBody, mail } from './helpers.js';

const good = (id: string, title: string): string =>
  mail({ subject: `[PATCH 0/1] ${title}`, messageId: `<${id}@example.org>`, body: coverBody('Ada Lovelace', [`x: ${title}`], [['a.c', 2]]) });

describe('bad input: a clear error naming the line, and the rest of the file is still read', () => {
  it('not an mbox: an error at line 1 and no series', async () => {
    const r = await readSeries('Dear list,\nplease find attached\n');
    expect(r.covers).toEqual([]);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', line: 1 });
    expect(r.diagnostics[0]?.message).toMatch(/^not an mbox: no 'From ' separator line/);
  });

  it('an empty file is not an mbox either', async () => {
    const r = await readSeries('');
    expect(r.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/^not an mbox/)]);
  });

  it('a message without a subject tag: error on its Subject line, the next series still read', async () => {
    const text = good('a', 'first') + mail({ subject: 'Please merge my stuff', messageId: '<b@example.org>', body: 'hi' }) + good('c', 'third');
    const r = await readSeries(text);
    expect(r.covers.map((c) => c.title)).toEqual(['first', 'third']);
    const subjectLine = text.split('\n').indexOf('Subject: Please merge my stuff') + 1;
    expect(r.diagnostics).toEqual([
      { severity: 'error', line: subjectLine, message: 'no subject tag such as [PATCH v2 0/3]: "Please merge my stuff"' },
    ]);
  });

  it('a message without a Subject header: error on its From_ line', async () => {
    const text = good('a', 'first') + mail({ messageId: '<b@example.org>', body: 'hi' });
    const r = await readSeries(text);
    const fromLine = text.split('\n').lastIndexOf('From patchwork Thu Sep 26 10:00:00 2019') + 1;
    expect(r.covers).toHaveLength(1);
    expect(r.diagnostics).toEqual([{ severity: 'error', line: fromLine, message: 'message has no Subject header' }]);
  });

  it('a tag with neither PATCH nor RFC, and a reply, are rejected with the reason', async () => {
    const r = await readSeries(
      mail({ subject: '[GIT PULL] KVM changes', body: 'x' }) + mail({ subject: 'Re: [PATCH 0/1] x', messageId: '<2@x>', body: 'y' }),
    );
    expect(r.covers).toEqual([]);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'subject tag [GIT PULL] has neither PATCH nor RFC: "[GIT PULL] KVM changes"',
      'a reply (Re:), not a patch or cover letter: "Re: [PATCH 0/1] x"',
    ]);
  });

  it('the seed truncated inside the PML diffstat: error at the last line, the three other series intact', async () => {
    const lines = readFileSync(SEED, 'utf8').split('\n');
    const cut = lines.findIndex((l) => l.includes('tools/testing/selftests/kvm/lib/x86_64/vmx.c')) + 1;
    const truncated = lines.slice(0, cut).join('\n') + '\n';
    const r = await readSeries(truncated);
    expect(r.covers.map((c) => c.title.slice(0, 12))).toEqual(['Enable ptp_k', 'KVM: VMX: Al', 'KVM: MMU: fi']);
    expect(r.covers[2]?.diffstat).toBeUndefined();
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toEqual([
      { severity: 'error', line: cut + 1, message: 'diffstat of 8 file(s) has no totals line ("N files changed, …") (truncated?)' },
      { severity: 'error', line: cut, message: expect.stringMatching(/^truncated file: the code fence opened at line \d+ is never closed$/) },
    ].sort((a, b) => a.line - b.line));
  });

  it('the seed truncated inside the nVMX headers: "headers never end" at the last line', async () => {
    const lines = readFileSync(SEED, 'utf8').split('\n');
    const cut = lines.findIndex((l) => l.startsWith('Subject: [PATCH 0/2] KVM: nVMX')) + 1;
    const r = await readSeries(lines.slice(0, cut).join('\n'));
    expect(r.covers).toHaveLength(3);
    expect(r.diagnostics).toContainEqual({
      severity: 'error',
      line: cut,
      message: 'truncated message: the headers never end (no blank line, no body)',
    });
  });

  it('a shortlog cut short is an error on its author line', async () => {
    const body = ['Ada Lovelace (3):', '  one', '  two', '', ' a.c | 1 +', ' 1 file changed, 1 insertion(+)'].join('\n');
    const text = mail({ subject: '[PATCH 0/3] t', body });
    const r = await readSeries(text);
    const at = text.split('\n').indexOf('Ada Lovelace (3):') + 1;
    expect(r.diagnostics).toContainEqual({ severity: 'error', line: at, message: 'shortlog of Ada Lovelace announces 3 patch(es) but lists 2 (truncated?)' });
    expect(r.covers[0]?.patches).toHaveLength(2);
  });

  it('a diffstat that does not add up, or miscounts its files, is an error on the totals line', async () => {
    const body = ['A (1):', '  t', '', ' a.c | 3 +++', ' b.c | 1 -', ' 3 files changed, 3 insertions(+), 2 deletions(-)'].join('\n');
    const text = mail({ subject: '[PATCH 0/1] t', body });
    const r = await readSeries(text);
    const at = text.split('\n').findIndex((l) => l.startsWith(' 3 files changed')) + 1;
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([
      { severity: 'error', line: at, message: 'diffstat lists 2 file(s) but its totals line says 3' },
      { severity: 'error', line: at, message: "diffstat does not add up: the files' changes sum to 4, the totals to 5" },
    ]);
  });

  it('a non-header line in the headers is a warning naming it; the message is still read', async () => {
    const text = mail({ subject: '[PATCH 0/1] t', extraHeaders: ['this is not a header'], body: coverBody('A', ['t'], [['a.c', 1]]) });
    const r = await readSeries(text);
    expect(r.covers).toHaveLength(1);
    expect(r.diagnostics).toEqual([
      { severity: 'warning', line: text.split('\n').indexOf('this is not a header') + 1, message: 'not a header line (no "Name:"): "this is not a header"' },
    ]);
  });

  it('a fenced message of an export without its From_ line is an error; the next one is read', () => {
    const headless = mail({ subject: '[PATCH] a', body: 'x' }).split('\n').slice(1).join('\n');
    const r = splitMbox('```c\n' + headless + '```\n```c\n' + mail({ subject: '[PATCH] b', body: 'y' }) + '```\n');
    expect(r.messages).toHaveLength(1);
    expect(r.diagnostics).toEqual([
      { severity: 'error', line: 2, message: 'message without a \'From \' separator line is skipped: "From: Ada Lovelace <ada@example.org>"' },
    ]);
  });

  it('text before the first message is a warning; markdown export headings are not', () => {
    const r = splitMbox('#### [PATCH 0/1] t\n##### From: A\n\nstray words\nmore\n```c\n' + mail({ subject: '[PATCH] t', body: 'b' }) + '```\n');
    expect(r.messages).toHaveLength(1);
    expect(r.diagnostics).toEqual([{ severity: 'warning', line: 4, message: 'text outside any message is ignored: "stray words"' }]);
  });
});

describe('patch mails next to their cover letter', () => {
  const cover = mail({
    subject: '[PATCH v2 0/2] demo',
    messageId: '<c@x>',
    body: coverBody('Ada', ['demo: one', 'demo: two'], [['a.c', 3]]),
  });
  it('a patch threaded under its cover and listed in its shortlog draws no warning', async () => {
    const r = await readSeries(cover + mail({ subject: '[PATCH v2 1/2] demo: one', messageId: '<p1@x>', extraHeaders: ['In-Reply-To: <c@x>'], body: 'diff' }));
    expect(r.patches.map((p) => [p.index, p.title])).toEqual([[1, 'demo: one']]);
    expect(r.diagnostics).toEqual([]);
  });

  it('a patch missing from the shortlog, or without a cover, is a warning on its From_ line', async () => {
    const stray = mail({ subject: '[PATCH v2 2/2] demo: renamed', messageId: '<p2@x>', extraHeaders: ['In-Reply-To: <c@x>'], body: 'diff' });
    const lone = mail({ subject: '[PATCH 1/4] other: thing', messageId: '<q@x>', body: 'diff' });
    const text = cover + stray + lone;
    const lines = text.split('\n');
    const froms = lines.flatMap((l, i) => (l.startsWith('From patchwork') ? [i + 1] : []));
    const r = await readSeries(text);
    expect(r.diagnostics).toEqual([
      { severity: 'warning', line: froms[1], message: 'patch 2/2 "demo: renamed" is not in the shortlog of its cover letter "demo"' },
      { severity: 'warning', line: froms[2], message: 'patch 1/4 "other: thing" has no cover letter in this file' },
    ]);
  });
});
