import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isFromLine, splitMbox } from '../mbox/split-mbox.js';
import { mail } from './helpers.js';

const RUNS = process.env['KVMLAB_SOAK'] ? 2000 : 100;

describe('splitting an mbox on From_ lines', () => {
  it('recognises separator lines by their asctime date, not by the word From', () => {
    expect(isFromLine('From patchwork Thu Sep 26 11:42:07 2019')).toBe(true);
    expect(isFromLine('From 8f2a6f0e1c Mon Sep 17 00:00:00 2001')).toBe(true);
    expect(isFromLine('From MAILER-DAEMON Fri Jul  8 12:08:34 2011')).toBe(true);
    expect(isFromLine('From v3 to v4:')).toBe(false);
    expect(isFromLine('From: Jianyong Wu <jianyong.wu@arm.com>')).toBe(false);
    expect(isFromLine('From the start, this was broken Thu Sep 26')).toBe(false);
  });

  it('keeps body lines starting with "From " inside the message and undoes mboxrd >From quoting', () => {
    const text = mail({ subject: '[PATCH] a', body: 'From v3 to v4:\n>From patchwork Thu Sep 26 11:42:07 2019\n>>From x' }) + mail({ subject: '[PATCH] b', body: 'b' });
    const r = splitMbox(text);
    const second = text.split('\n').indexOf('From patchwork Thu Sep 26 10:00:00 2019', 1) + 1;
    expect(r.messages.map((m) => m.fromLine)).toEqual([1, second]);
    expect(second).toBe(12);
    expect(r.messages[0]?.lines.slice(-3)).toEqual(['From v3 to v4:', 'From patchwork Thu Sep 26 11:42:07 2019', '>From x']);
  });

  it('reads CRLF files with the same line numbers', () => {
    const text = mail({ subject: '[PATCH] a', body: 'x' }) + mail({ subject: '[PATCH] b', body: 'y' });
    const lf = splitMbox(text);
    const crlf = splitMbox(text.replace(/\n/g, '\r\n'));
    expect(crlf).toEqual(lf);
  });

  it('in a plain mbox a ``` in a body is body text; in a markdown export the closing fence ends the message', () => {
    const plain = splitMbox(mail({ subject: '[PATCH] a', body: '```\ncode\n```\nafter' }));
    expect(plain.messages[0]?.lines.slice(-4)).toEqual(['```', 'code', '```', 'after']);
    const exported = splitMbox('```c\n' + mail({ subject: '[PATCH] a', body: 'x' }) + '```\n## next\n');
    expect(exported.messages[0]?.lines.at(-1)).toBe('x');
    expect(exported.diagnostics).toEqual([]);
  });

  test.prop([fc.array(fc.array(fc.oneof(fc.constantFrom('From v1 to v2:', 'From: x', '', '>From y', ' indented'), fc.string({ maxLength: 30 })), { maxLength: 6 }), { minLength: 1, maxLength: 6 })], { numRuns: RUNS })(
    'n messages whose bodies hold any non-separator lines split into exactly n messages at the right lines',
    (bodies) => {
      const safe = bodies.map((b) => b.map((l) => l.replace(/[\r\n]/g, ' ')).filter((l) => !isFromLine(l) && !/^\s*(```|~~~)/.test(l)));
      const texts = safe.map((b, i) => mail({ subject: `[PATCH] m${i}`, body: b.join('\n') }));
      const r = splitMbox(texts.join(''));
      expect(r.messages).toHaveLength(texts.length);
      let line = 1;
      texts.forEach((t, i) => {
        expect(r.messages[i]?.fromLine).toBe(line);
        line += t.split('\n').length - 1;
      });
    },
  );
});
