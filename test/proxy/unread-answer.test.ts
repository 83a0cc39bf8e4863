// A client that asks and then reads nothing must not hold an answer's memory and connection as long as it likes:
// an answer whose bytes are still queued when it ended is cut after a while (cutIfNotTaken); one that went out is
// left alone. Real servers and sockets on 127.0.0.1.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cutIfNotTaken } from '../../src/proxy/respond.js';
import { listenForTest } from '../helpers/loopback.js';

// Far more than the sockets of both ends buffer on loopback.
const BIG = Buffer.alloc(48 * 1024 * 1024, 'x');
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** A server answering `body` and handing its response to cutIfNotTaken(cutAfterMs); resolves with the response. */
async function serve(body: Buffer, cutAfterMs: number): Promise<{ url: string; answered: Promise<ServerResponse> }> {
  let answered!: (res: ServerResponse) => void;
  const done = new Promise<ServerResponse>((resolve) => (answered = resolve));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    cutIfNotTaken(res, cutAfterMs);
    answered(res);
  });
  return { url: `http://${await listenForTest(server)}/`, answered: done };
}

function closed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => (res.closed ? resolve() : res.once('close', () => resolve())));
}

describe('an answer the client does not read', () => {
  it('is cut: once the server side closed, the client that resumes reading gets only part of it', async () => {
    const { url, answered } = await serve(BIG, 200);
    const response = new Promise<IncomingMessage>((resolve) => {
      const client = request(url, { method: 'GET' }, (res) => {
        res.pause();
        resolve(res);
      });
      client.on('error', () => undefined);
      closers.push(() => client.destroy());
      client.end();
    });
    await closed(await answered);
    const res = await response;
    const bytes = await new Promise<number>((resolve) => {
      let count = 0;
      res.on('data', (chunk: Buffer) => (count += chunk.length));
      res.on('error', () => undefined);
      res.on('close', () => resolve(count));
      res.resume();
    });
    expect(res.complete).toBe(false);
    expect(bytes).toBeLessThan(BIG.length);
  });

  it('is left alone when the client reads it: the whole answer arrives', async () => {
    // A reader that goes on reading is given the timeout for the rest (a slower one is cut: docs/proxy.md), here
    // far more than 48 MB takes on loopback even on a loaded machine.
    const { url, answered } = await serve(BIG, 20_000);
    const received = new Promise<{ bytes: number; complete: boolean }>((resolve) => {
      const client = request(url, { method: 'GET' }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('close', () => resolve({ bytes, complete: res.complete }));
      });
      client.on('error', () => undefined);
      closers.push(() => client.destroy());
      client.end();
    });
    expect(await received).toEqual({ bytes: BIG.length, complete: true });
    await closed(await answered);
  });
});
