// A stream's timers (its idle timer, its request timer moved to max_stream_duration) are set on the tick after the
// undici callback that asks for them (Forwarding.timersLater): first the bytes written in that turn go to the
// client (ClientSink.flush), then the timers. A stream whose headers, body and end arrive in one read is over by
// that tick: it is written as the end's one write, nothing is flushed on its own, and no timer is made for it.
// Nor is the stream's reader made before its first write (StreamWatch makes it at its first read).
// A real upstream on 127.0.0.1 and a real undici pool; the client's side is a sink that records what it is asked.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { openEndpoints } from '../../src/cli/endpoints.js';
import { ARMS, type ArmName } from '../../src/plan/plan.js';
import { forward } from '../../src/proxy/forward.js';
import type { ClientSink } from '../../src/proxy/forward-types.js';
import { NO_HEADERS } from '../../src/proxy/respond.js';
import { createTargets, type ArmUpstream, type Targets } from '../../src/proxy/targets.js';
import { until } from '../helpers/until.js';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { planFromYaml } from '../helpers/plans.js';
import { scriptedPlan, scriptedServer, type Scripted } from './helpers.js';

const chunk = (content: string) => `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const END = `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
const REQUEST = { body: '{"model":"blue-model","stream":true,"messages":[]}', stream: true, headers: NO_HEADERS };

async function targetsFor(scripted: Scripted): Promise<Targets> {
  const plan = planFromYaml(scriptedPlan(scripted.url));
  const endpoints = await openEndpoints(plan);
  const upstreams = {} as Record<ArmName, ArmUpstream>;
  for (const arm of ARMS) upstreams[arm] = { arm, model: endpoints.arms[arm].model, upstream: endpoints.arms[arm].upstream };
  const targets = createTargets(upstreams, { maxResponseBytes: 1 << 20, maxStreamMs: 60_000, openingHoldMs: 10_000 });
  return closeAfterTest(targets);
}

type RecordingSink = ClientSink & { calls: string[]; text: () => string };

/** A client's side that records each call, and what was written. */
function recordingSink(): RecordingSink {
  const calls: string[] = [];
  const written: Buffer[] = [];
  return {
    calls,
    text: () => Buffer.concat(written).toString('utf8'),
    begin: (status) => void calls.push(`begin ${status}`),
    write: (bytes) => {
      calls.push('write');
      written.push(bytes);
      return true;
    },
    flush: () => void calls.push('flush'),
    end: () => void calls.push('end'),
    cut: () => void calls.push('cut'),
    whole: () => void calls.push('whole'),
  };
}

/**
 * Targets on an upstream that sends a whole stream in one read: writeHead and end(body) in one turn, which Node sends
 * as one write (headers, body and end); and a sink for the client's side.
 */
async function wholeStreamAtOnce(body: string): Promise<{ targets: Targets; sink: RecordingSink }> {
  const scripted = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(body);
  });
  return { targets: await targetsFor(scripted), sink: recordingSink() };
}

/**
 * Targets on an upstream that sends a stream's headers and first chunk, and the rest when the test ends `upstream()`;
 * and a sink for the client's side.
 */
async function firstChunkThenHeld(): Promise<{ targets: Targets; sink: RecordingSink; upstream: () => ServerResponse }> {
  let response: ServerResponse | undefined;
  const scripted = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk('first '));
    response = res;
  });
  return { targets: await targetsFor(scripted), sink: recordingSink(), upstream: () => response as ServerResponse };
}

describe("a stream's timers, set on the next tick", () => {
  it('are never made for a stream whose headers, body and end arrive in one read: begin, write and end, no flush of its own', async () => {
    const { targets, sink } = await wholeStreamAtOnce(chunk('all ') + chunk('at once') + END);
    const outcome = await forward(targets.arms.blue, REQUEST, sink, Date.now);
    // The settling runs in the upstream read's turn; its ticks (timersLater's included) have run by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.calls).toEqual(['begin 200', 'write', 'end']);
    expect(outcome.committed).toBe(true);
    expect(outcome.result).toMatchObject({ ok: true, content: 'all at once', finishReason: 'stop' });
  });

  it('flush the first chunk of a stream that goes on after its write, before the rest arrives', async () => {
    const { targets, sink, upstream } = await firstChunkThenHeld();
    const outcome = forward(targets.arms.blue, REQUEST, sink, Date.now);
    await until(() => sink.calls.includes('flush'), 'the first chunk flushed');
    expect(sink.calls).toEqual(['begin 200', 'write', 'flush']);
    upstream().end(chunk('then more') + END);
    const done = await outcome;
    expect(sink.calls.slice(0, 4)).toEqual(['begin 200', 'write', 'flush', 'write']);
    expect(sink.calls.at(-1)).toBe('end');
    expect(sink.text()).toBe(chunk('first ') + chunk('then more') + END);
    expect(done.result).toMatchObject({ ok: true, content: 'first then more' });
  });
});

describe("a passed stream's reader, made after its first write", () => {
  it('is made when the written chunk is read, not before the client has its first bytes', async () => {
    const { targets, sink } = await wholeStreamAtOnce(chunk('read ') + chunk('after') + END);
    const blue = targets.arms.blue;
    const target = { ...blue, streamReader: () => (sink.calls.push('reader'), blue.streamReader()) };
    const outcome = await forward(target, REQUEST, sink, Date.now);
    // The stream ended in the read that brought it: its end reads the written chunk, making the reader then.
    expect(sink.calls).toEqual(['begin 200', 'write', 'end', 'reader']);
    expect(outcome.result).toMatchObject({ ok: true, content: 'read after', finishReason: 'stop' });
  });
});

describe('a chunk written to the client, read on the tick that flushes it', () => {
  it('is read after its bytes are flushed, on that tick, not in a microtask after every tick queued meanwhile', async () => {
    const { targets, sink, upstream } = await firstChunkThenHeld();
    // A tick queued from the flush runs after the tick that flushed, and before any microtask.
    sink.flush = () => {
      sink.calls.push('flush');
      process.nextTick(() => sink.calls.push('next tick'));
    };
    const blue = targets.arms.blue;
    const target = { ...blue, streamReader: () => (sink.calls.push('reader'), blue.streamReader()) };
    const outcome = forward(target, REQUEST, sink, Date.now);
    await until(() => sink.calls.includes('next tick'), 'the tick after the flush');
    expect(sink.calls).toEqual(['begin 200', 'write', 'flush', 'reader', 'next tick']);
    upstream().end(chunk('then more') + END);
    expect((await outcome).result).toMatchObject({ ok: true, content: 'first then more' });
  });
});
