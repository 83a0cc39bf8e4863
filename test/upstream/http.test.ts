// exchange(): undici dispatch with our own timers, tested against scripted servers on 127.0.0.1.
import { SignalWatch } from '../../src/upstream/signal-watch.js';
import diagnostics from 'node:diagnostics_channel';
import type http from 'node:http';
import { Pool } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exchange, type ExchangeLimits } from '../../src/upstream/http.js';
import { startServer, type TestServer } from './server.js';

const REQUEST = { method: 'POST' as const, path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: '{}' };

function limits(overrides: Partial<ExchangeLimits> = {}): ExchangeLimits {
  return { requestMs: 10_000, idleMs: 10_000, connectMs: 2_000, steadyNow: () => performance.now(), ...overrides };
}

/** A server whose first answer waits until the test releases it; later requests are answered at once. */
async function heldFirstAnswer(): Promise<{ server: TestServer; held: Promise<void>; release: () => void }> {
  let release!: () => void;
  let markHeld!: () => void;
  const held = new Promise<void>((resolve) => (markHeld = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const answer = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  const server = await startServer([
    (_req, res) => {
      markHeld();
      void released.then(() => answer(res));
    },
    (_req, res) => answer(res),
  ]);
  return { server, held, release };
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function onePool(server: TestServer): Pool {
  // One connection: a second request has to wait in undici's queue for the first to finish.
  const pool = new Pool(server.origin, { connections: 1 });
  cleanups.push(
    () => pool.close(),
    () => server.close(),
  );
  return pool;
}

describe('exchange while waiting for a pooled connection', () => {
  it('settles an abort at once, and the pool still serves the next request', async () => {
    const { server, held, release } = await heldFirstAnswer();
    const pool = onePool(server);
    const first = exchange(pool, REQUEST, limits());
    await held;
    const controller = new AbortController();
    const waiting = exchange(pool, REQUEST, limits({ cancel: new SignalWatch(controller.signal) }));
    controller.abort(new Error('operator cancelled'));
    await expect(waiting).rejects.toThrow('operator cancelled');
    // The aborted request never reached the server.
    expect(server.requests).toHaveLength(1);
    release();
    await expect(first).resolves.toMatchObject({ ok: true, status: 200, text: '{"ok":true}' });
    await expect(exchange(pool, REQUEST, limits())).resolves.toMatchObject({ ok: true, status: 200 });
    expect(server.requests).toHaveLength(2);
  });

  it('times out on its own request timer while queued, and the pool still serves the next request', async () => {
    const { server, held, release } = await heldFirstAnswer();
    const pool = onePool(server);
    const first = exchange(pool, REQUEST, limits());
    await held;
    // Resolving at all proves it: the first request holds the connection until release() below.
    const waiting = await exchange(pool, REQUEST, limits({ requestMs: 150 }));
    expect(waiting).toMatchObject({ ok: false, failure: 'timeout', expired: 'request', reason: 'request timeout, 150ms' });
    expect(server.requests).toHaveLength(1);
    release();
    await expect(first).resolves.toMatchObject({ ok: true });
    await expect(exchange(pool, REQUEST, limits())).resolves.toMatchObject({ ok: true, status: 200 });
  });
});

describe('exchange on a kept-alive connection', () => {
  it("sets its request timer once undici has written the request (from an immediate of undici's), not before", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const pool = onePool(server);
    // The connection made and kept alive, and undici's immediate after the answer run (as between two requests
    // of a proxy at 1,000 a second): undici writes the next request on it from an immediate queued within dispatch.
    await exchange(pool, REQUEST, limits());
    await new Promise((resolve) => setImmediate(resolve));
    // A request timeout no other timer uses, to tell the request timer apart.
    const requestMs = 7_777;
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const timerMade = () => spy.mock.calls.some((call) => call[1] === requestMs);
    let timerAtWrite: boolean | undefined;
    const written = () => void (timerAtWrite ??= timerMade());
    diagnostics.subscribe('undici:client:sendHeaders', written);
    try {
      await expect(exchange(pool, REQUEST, limits({ requestMs }))).resolves.toMatchObject({ ok: true });
      expect(timerAtWrite).toBe(false);
      expect(timerMade()).toBe(true);
    } finally {
      spy.mockRestore();
      diagnostics.unsubscribe('undici:client:sendHeaders', written);
    }
  });
});

describe('exchange with a stream reader', () => {
  it('succeeds at the terminator even when the server never ends the body; the idle timer frees the connection', async () => {
    const server = await startServer([
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: hello\n\ndata: [DONE]\n\n');
        // ...and never res.end(): a proxy that keeps the stream open.
      },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"second":true}');
      },
    ]);
    const pool = onePool(server);
    let seen = '';
    const result = await exchange(
      pool,
      REQUEST,
      limits({
        idleMs: 200,
        onText: (text) => {
          seen += text;
          return seen.includes('[DONE]');
        },
      }),
    );
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(seen).toContain('data: hello');
    // The stalled tail holds the only connection until the idle timer aborts it; then the pool works again.
    await expect(exchange(pool, REQUEST, limits())).resolves.toMatchObject({ ok: true, text: '{"second":true}' });
  });

  it('fails as a connection failure with the reader error, rather than breaking undici', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"broken\n\n');
    });
    const pool = onePool(server);
    const result = await exchange(
      pool,
      REQUEST,
      limits({
        onText: () => {
          throw new Error('the stream reader choked on a chunk');
        },
      }),
    );
    expect(result).toMatchObject({ ok: false, failure: 'connection', reason: 'the stream reader choked on a chunk', status: 200 });
  });

  it('collects a non-2xx body instead of streaming it, for the error message', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{"error":{"message":"slow down"}}');
    });
    const pool = onePool(server);
    let streamed = false;
    const result = await exchange(pool, REQUEST, limits({ onText: () => (streamed = true) }));
    expect(result).toMatchObject({ ok: true, status: 429, text: '{"error":{"message":"slow down"}}' });
    expect(streamed).toBe(false);
  });
});

describe('exchange and the caller signal', () => {
  it('rejects at once when the signal is already aborted, sending nothing', async () => {
    const server = await startServer((_req, res) => res.end('{}'));
    const pool = onePool(server);
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(exchange(pool, REQUEST, limits({ cancel: new SignalWatch(controller.signal) }))).rejects.toThrow('shutting down');
    expect(server.requests).toHaveLength(0);
  });

  it('one abort settles every exchange in flight on the signal', async () => {
    let allArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    let count = 0;
    const server = await startServer(() => {
      if (++count === 4) allArrived();
    });
    const pool = new Pool(server.origin, { connections: 4 });
    cleanups.push(
      () => pool.destroy(),
      () => server.close(),
    );
    const controller = new AbortController();
    const cancel = new SignalWatch(controller.signal);
    const all = Array.from({ length: 4 }, () => exchange(pool, REQUEST, limits({ cancel })));
    await arrived;
    controller.abort(new Error('second Ctrl-C'));
    const settled = await Promise.allSettled(all);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
  });
});
