// A streamed chunk is written to the client first and read after (StreamWatch.feedAfterWrite keeps it,
// readWritten reads it: the proxy calls it on the tick that flushes the bytes, src/proxy/forwarding.ts), so
// reading never holds its bytes back. The reading must still see every chunk, in order, and the stream's end must
// read what was written but not read yet before it judges the stream.
import { describe, expect, it } from 'vitest';
import { StreamWatch } from '../../src/proxy/stream-watch.js';
import { openAiDialect } from '../../src/upstream/openai.js';

const chunk = (content: string) => `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const finish = `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

describe('StreamWatch.feedAfterWrite', () => {
  it('reads nothing until told, then every kept chunk in order', async () => {
    let clock = 0;
    const watch = new StreamWatch(
      () => openAiDialect.streamReader(),
      () => clock,
    );
    clock = 5;
    watch.feedAfterWrite(Buffer.from(chunk('one ')));
    watch.feedAfterWrite(Buffer.from(chunk('two')));
    // Nothing schedules a read of its own.
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(watch.firstTokenAt).toBeUndefined();
    watch.readWritten();
    expect(watch.firstTokenAt).toBe(5);
    watch.feedAfterWrite(Buffer.from(finish));
    watch.readWritten();
    expect(watch.end()).toMatchObject({ ok: true, reply: { content: 'one two', finishReason: 'stop' } });
  });

  it('reads what is still unread when the stream ends', () => {
    const watch = new StreamWatch(
      () => openAiDialect.streamReader(),
      () => 0,
    );
    watch.feedAfterWrite(Buffer.from(chunk('all at once')));
    watch.feedAfterWrite(Buffer.from(finish));
    expect(watch.end()).toMatchObject({ ok: true, reply: { content: 'all at once', finishReason: 'stop' } });
  });

  it('keeps the order of chunks read at once and chunks read after their write', () => {
    const watch = new StreamWatch(
      () => openAiDialect.streamReader(),
      () => 0,
    );
    watch.feed(Buffer.from(chunk('a')));
    watch.feedAfterWrite(Buffer.from(chunk('b')));
    watch.readWritten();
    watch.feedAfterWrite(Buffer.from(chunk('c')));
    watch.feedAfterWrite(Buffer.from(finish));
    expect(watch.end()).toMatchObject({ ok: true, reply: { content: 'abc' } });
  });
});
