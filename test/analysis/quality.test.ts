import { describe, expect, it } from 'vitest';
import { checkQuality, createQualityChecker, parsesAsJson } from '../../src/analysis/index.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

function reply(content: string, extra: Partial<UpstreamResult> = {}): UpstreamResult {
  return { arm: 'green', model: 'm', ok: true, content, finishReason: 'stop', latencyMs: 10, attempts: 1, stream: false, ...extra };
}

describe('createQualityChecker', () => {
  it('passes everything without rules, even empty content', () => {
    const check = createQualityChecker(undefined);
    expect(check(reply(''))).toEqual({ ok: true });
    expect(checkQuality(reply(''), {})).toEqual({ ok: true });
  });

  it('never judges a failed request: that is an error, not a quality failure', () => {
    const check = createQualityChecker({ min_content_length: 10, json: true });
    expect(check(reply('', { ok: false, failure: 'server_error' }))).toEqual({ ok: true });
  });

  it('fails empty content only when a rule needs content', () => {
    expect(checkQuality(reply('   '), { min_content_length: 1 })).toEqual({ ok: false, reason: 'empty content' });
    expect(checkQuality(reply(''), { json: true })).toEqual({ ok: false, reason: 'empty content' });
    expect(checkQuality(reply(''), { contains: 'x' }).reason).toBe('empty content');
    expect(checkQuality(reply(''), { min_content_length: 0 }).ok).toBe(true);
    expect(checkQuality(reply(''), { finish_reasons: ['stop'] }).ok).toBe(true);
    expect(checkQuality(reply(''), { regex: '^$' }).ok).toBe(true);
  });

  it('checks min_content_length on the trimmed content, at the boundary', () => {
    const check = createQualityChecker({ min_content_length: 5 });
    expect(check(reply('  abcde  ')).ok).toBe(true);
    const short = check(reply('  abcd  '));
    expect(short.ok).toBe(false);
    expect(short.reason).toMatch(/4 characters, under min_content_length 5/);
  });

  it('checks json, tolerating markdown fences', () => {
    const check = createQualityChecker({ json: true });
    expect(check(reply('{"a": 1}')).ok).toBe(true);
    expect(check(reply('[1, 2]')).ok).toBe(true);
    expect(check(reply('```json\n{"a": 1}\n```')).ok).toBe(true);
    expect(check(reply('  ```JSON\r\n{"a": [1]}\r\n```  \n')).ok).toBe(true);
    expect(check(reply('```\n{"a": 1}```')).ok).toBe(true);
    expect(check(reply('{"a": 1'))).toEqual({ ok: false, reason: 'content is not valid JSON' });
    expect(check(reply('```json\n{oops}\n```')).ok).toBe(false);
    expect(check(reply('Sure! {"a": 1}')).ok).toBe(false);
    expect(parsesAsJson('42')).toBe(true);
  });

  it('checks contains: one string, or all of a list, case-sensitive', () => {
    expect(checkQuality(reply('Hello World'), { contains: 'World' }).ok).toBe(true);
    expect(checkQuality(reply('Hello World'), { contains: 'world' })).toEqual({ ok: false, reason: 'content does not contain "world"' });
    expect(checkQuality(reply('alpha beta'), { contains: ['alpha', 'beta'] }).ok).toBe(true);
    expect(checkQuality(reply('alpha only'), { contains: ['alpha', 'beta'] }).reason).toBe('content does not contain "beta"');
  });

  it('checks a regex, compiled once', () => {
    const check = createQualityChecker({ regex: '^ticket-\\d+$' });
    expect(check(reply('ticket-42')).ok).toBe(true);
    expect(check(reply('ticket-42')).ok).toBe(true); // no lastIndex state between calls
    expect(check(reply('Ticket-42'))).toEqual({ ok: false, reason: 'content does not match regex /^ticket-\\d+$/' });
  });

  it('checks finish_reasons against the allowed list', () => {
    const check = createQualityChecker({ finish_reasons: ['stop', 'end_turn'] });
    expect(check(reply('x', { finishReason: 'end_turn' })).ok).toBe(true);
    expect(check(reply('x', { finishReason: 'length' }))).toEqual({ ok: false, reason: 'finish reason "length", expected one of stop, end_turn' });
    expect(check(reply('x', { finishReason: undefined })).reason).toMatch(/^no finish reason/);
  });

  it('reports the first failing rule', () => {
    const check = createQualityChecker({ min_content_length: 3, contains: 'z', json: true });
    expect(check(reply('ab')).reason).toMatch(/min_content_length/);
    expect(check(reply('abc')).reason).toMatch(/contain "z"/);
    expect(check(reply('"z z"')).ok).toBe(true);
  });
});
