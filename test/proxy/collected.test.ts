// A 2xx answer collected whole is read for its reply: an ASCII body by a Latin-1 copy, anything else as UTF-8
// (collected.ts readCollected), the same text either way.
import { describe, expect, it } from 'vitest';
import { answerText } from '../../src/proxy/answer-text.js';
import { readCollected } from '../../src/proxy/collected.js';
import type { ParseOutcome } from '../../src/upstream/dialect.js';
import { openAiDialect } from '../../src/upstream/openai.js';
import { openAiCompletion } from './helpers.js';

const parse = (json: unknown): ParseOutcome => openAiDialect.parse(json);
const read = (body: Buffer): string | undefined => {
  const outcome = readCollected(answerText(body), parse);
  return outcome.ok ? outcome.reply.content : undefined;
};

describe('readCollected', () => {
  it('reads an ASCII answer and a UTF-8 one alike, bytes that are not UTF-8 as U+FFFD', () => {
    expect(read(Buffer.from(openAiCompletion('m', 'plain text')))).toBe('plain text');
    expect(read(Buffer.from(openAiCompletion('m', 'café, naïve, 日本語, 😀')))).toBe('café, naïve, 日本語, 😀');
    // A lone continuation byte inside the content string: decoded as UTF-8 decodes it, not byte for character.
    const bad = Buffer.from(openAiCompletion('m', 'a_b'));
    bad[bad.indexOf('a_b') + 1] = 0x80;
    expect(read(bad)).toBe('a\ufffdb');
    expect(readCollected(answerText(Buffer.from('not json')), parse)).toEqual({ ok: false, reason: 'the body is not JSON' });
  });
});
