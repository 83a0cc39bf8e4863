import { describe, expect, it } from 'vitest';
import { FirstEventHold } from '../../src/proxy/first-event-hold.js';

const b = (text: string) => Buffer.from(text, 'utf8');

/** Feeds the pieces in turn; how many were held before one completed the first event (or all were held). */
function heldBefore(pieces: string[], maxBytes = 1000): number {
  const hold = new FirstEventHold(maxBytes);
  for (const [index, piece] of pieces.entries()) if (!hold.holds(b(piece))) return index;
  return pieces.length;
}

describe('FirstEventHold', () => {
  it('lets a chunk with a whole first event through at once, in any line ending', () => {
    expect(heldBefore(['data: {"a":1}\n\n'])).toBe(0);
    expect(heldBefore(['data: {"a":1}\r\n\r\n'])).toBe(0);
    expect(heldBefore(['data: {"a":1}\r\r'])).toBe(0);
    expect(heldBefore(['event: message_start\ndata: {}\n\nevent: ping\n'])).toBe(0);
  });

  it('holds an event split over chunks until its blank line', () => {
    expect(heldBefore(['data: ', '{"error":{"message":"overloaded"}}', '\n', '\n'])).toBe(3);
    // A CRLF split between chunks is one line ending, then the blank line.
    expect(heldBefore(['data: {}\r', '\n', '\r\n'])).toBe(2);
  });

  it('holds comments and blank lines: they do not make an event', () => {
    expect(heldBefore([': OPENROUTER PROCESSING\n\n', ': OPENROUTER PROCESSING\n\n', 'data: {}\n\n'])).toBe(2);
    expect(heldBefore(['\n\n:x\r\n\r\n'])).toBe(1);
    // A comment line split across chunks goes on in the next one.
    expect(heldBefore([': OPENROUTER PRO', 'CESSING\n\n', 'data: {}\n\n'])).toBe(2);
  });

  it('holds no more than maxBytes', () => {
    const hold = new FirstEventHold(10);
    expect(hold.holds(b('data: 123'))).toBe(true);
    expect(hold.holds(b('45'))).toBe(false);
    expect(hold.held().map(String)).toEqual(['data: 123']);
  });
});

describe('FirstEventHold with leading events (the Responses API)', () => {
  const leading = new Set(['response.created', 'response.in_progress']);
  const event = (name: string) => `event: ${name}\ndata: {"type":"${name}"}\n\n`;

  it('holds past response.created and response.in_progress until the first event that may carry output or a failure', () => {
    const held = (pieces: string[]) => {
      const hold = new FirstEventHold(1000, leading);
      for (const [index, piece] of pieces.entries()) if (!hold.holds(b(piece))) return index;
      return pieces.length;
    };
    expect(held([event('response.created') + event('response.in_progress'), event('response.failed')])).toBe(1);
    expect(held([event('response.created'), 'event: response.in_', 'progress\ndata: {}\n\n', 'event:response.output_item.added\ndata: {}\n', '\n'])).toBe(4);
    // An event without an `event:` line is not a leading one.
    expect(held(['data: {"type":"response.created"}\n\n'])).toBe(0);
  });
});
