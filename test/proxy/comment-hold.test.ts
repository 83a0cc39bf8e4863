import { describe, expect, it } from 'vitest';
import { CommentHold, mayBeComment } from '../../src/proxy/comment-hold.js';

const b = (text: string) => Buffer.from(text, 'utf8');

describe('CommentHold', () => {
  it('holds comment and blank lines in any line ending, and nothing else', () => {
    const hold = new CommentHold(1000);
    expect(hold.take(b(': OPENROUTER PROCESSING\n\n'))).toBe(true);
    expect(hold.take(b(':keep-alive\r\n\r\n'))).toBe(true);
    expect(hold.take(b('\r:x\r'))).toBe(true);
    expect(hold.take(b(': ok\n\ndata: {}\n\n'))).toBe(false);
    expect(hold.take(b('event: error\n'))).toBe(false);
    expect(hold.held().map(String)).toEqual([': OPENROUTER PROCESSING\n\n', ':keep-alive\r\n\r\n', '\r:x\r']);
  });

  it('goes on with a comment line split across chunks', () => {
    const hold = new CommentHold(1000);
    expect(hold.take(b(': OPENROUTER PRO'))).toBe(true);
    expect(hold.take(b('CESSING\n\n'))).toBe(true);
    // A line that starts after the comment ended is read as a line of its own.
    expect(hold.take(b('data: {}\n\n'))).toBe(false);
  });

  it('holds no more than maxBytes', () => {
    const hold = new CommentHold(10);
    expect(hold.take(b(': 1234567\n'))).toBe(true);
    expect(hold.take(b(':\n'))).toBe(false);
    expect(hold.held()).toHaveLength(1);
  });

  it('mayBeComment looks at the first byte only', () => {
    expect([': x', '\n', '\r\n', 'data: {}', 'event: x', ''].map((text) => mayBeComment(b(text)))).toEqual([true, true, true, false, false, false]);
  });
});
