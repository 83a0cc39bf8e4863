// StreamWatch decodes a stream's chunks as Latin-1 while they are all ASCII, and with a StringDecoder from the
// first chunk that is not: the text it reads must be the stream's UTF-8 text whatever the chunking, a character
// split across chunks included, after ASCII chunks or not.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { StreamWatch } from '../../src/proxy/stream-watch.js';
import { openAiDialect } from '../../src/upstream/openai.js';

const chunk = (content: string) => `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const finish = `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

function read(pieces: Buffer[]): unknown {
  const watch = new StreamWatch(
    () => openAiDialect.streamReader(),
    () => 0,
  );
  for (const piece of pieces) watch.feed(piece);
  return watch.end();
}

/** `bytes` cut at the given offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    pieces.push(bytes.subarray(from, to));
    from = to;
  }
  return pieces;
}

describe('StreamWatch decoding', () => {
  const words = ['plain ', 'café ', 'naïve ', '日本語 ', 'emoji 😀 ', 'end'];
  const stream = Buffer.from(words.map(chunk).join('') + finish);
  const content = words.join('');

  it('reads a character split across chunks after ASCII chunks', () => {
    const text = stream.toString('utf8');
    // Inside the two bytes of "é", after a first chunk that is all ASCII.
    const e = Buffer.byteLength(text.slice(0, text.indexOf('é'))) + 1;
    expect(read(cut(stream, [Buffer.byteLength(chunk('plain ')), e]))).toMatchObject({ ok: true, reply: { content } });
  });

  it('reads every seeded random chunking as the whole text', () => {
    const random = createRandom(13);
    for (let run = 0; run < 300; run++) {
      const cuts = new Set<number>();
      const n = 1 + Math.floor(random() * 12);
      for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(random() * (stream.length - 1)));
      expect(
        read(
          cut(
            stream,
            [...cuts].sort((a, b) => a - b),
          ),
        ),
      ).toMatchObject({ ok: true, reply: { content } });
    }
  });

  it('drops a byte order mark before the first event, whole or split', () => {
    const marked = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), stream]);
    expect(read([marked])).toMatchObject({ ok: true, reply: { content } });
    expect(read(cut(marked, [1, 2, 5]))).toMatchObject({ ok: true, reply: { content } });
  });
});
