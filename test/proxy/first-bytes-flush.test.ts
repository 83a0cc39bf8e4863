// A stream's first bytes leave when written: Node holds a response's writes until the next tick (it corks the
// socket at each write), which would keep them behind all the work that follows in the same turn (the stream's
// timers, the rest of the upstream read). ClientSink.flush hands them to the kernel at once.
// A real server and client on 127.0.0.1.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.js';
import { HeaderKeys } from '../../src/proxy/header-keys.js';
import { responseSink } from '../../src/proxy/respond.js';
import { SplitKeys } from '../../src/proxy/split-key.js';
import { scriptedServer } from './helpers.js';

const KEY = 'sk-flush-test-0123456789abcdef';
const redactor = createRedactor([KEY]);
const keys = { redactor, headerKeys: new HeaderKeys([KEY]), mayQuoteKey: () => false, splitKeys: new SplitKeys([KEY], redactor) };
const NO_WAIT = { drained() {} };

/** What the socket still held right after the sink's write and flush, and what the client read. */
async function firstChunk(flush: boolean): Promise<{ held: number; corked: number; text: string }> {
  let held = -1;
  let corked = -1;
  const scripted = await scriptedServer((_req, res) => {
    const sink = responseSink(res, { arm: 'blue', fallback: false }, keys);
    sink.begin(200, { 'content-type': 'text/event-stream' });
    sink.write(Buffer.from('data: {"n":1}\n\n'), NO_WAIT);
    if (flush) sink.flush();
    // Read in the same turn as the write: what would wait for the next tick.
    held = res.socket?.writableLength ?? -1;
    corked = res.socket?.writableCorked ?? -1;
    sink.end();
  });
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(`${scripted.url}/chat/completions`, { method: 'POST' }, (res) => {
      let got = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (got += chunk));
      res.on('end', () => resolve(got));
    });
    req.on('error', reject);
    req.end('{}');
  });
  return { held, corked, text };
}

describe('ClientSink.flush', () => {
  it('hands the written bytes to the kernel in the same turn: nothing held, the socket no longer corked', async () => {
    const flushed = await firstChunk(true);
    expect(flushed).toEqual({ held: 0, corked: 0, text: 'data: {"n":1}\n\n' });
  });

  it('is what moves them: without it the bytes wait in the corked socket until the next tick', async () => {
    const unflushed = await firstChunk(false);
    expect(unflushed.corked).toBe(1);
    expect(unflushed.held).toBeGreaterThan(0);
    expect(unflushed.text).toBe('data: {"n":1}\n\n');
  });
});
