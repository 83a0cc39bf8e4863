import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/index.js';
import { fastConfig, sim } from './helpers.js';

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('simulator server', () => {
  it('listens on 127.0.0.1 only, with a /v1 base URL', async () => {
    const handle = await sim(fastConfig());
    expect(handle.baseUrl).toBe(`http://127.0.0.1:${handle.port}/v1`);
    expect(await canConnect('127.0.0.1', handle.port)).toBe(true);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (external) expect(await canConnect(external.address, handle.port)).toBe(false);
  });

  it('uses the port asked for, and reports a taken one as EADDRINUSE', async () => {
    const first = await sim(fastConfig());
    await expect(startSimulator(fastConfig(), { port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('accepts paths with or without /v1', async () => {
    const handle = await sim(fastConfig());
    const response = await fetch(`http://127.0.0.1:${handle.port}/models`);
    expect(response.status).toBe(200);
  });

  it('says that it is the simulator, and what it serves, on a path it does not (embeddings relayed by a proxy)', async () => {
    const handle = await sim(fastConfig());
    const response = await fetch(`${handle.baseUrl}/embeddings`, { method: 'POST', body: '{"model":"m","input":"x"}' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: {
        code: 'unknown_url',
        message:
          "Unknown request URL: POST /v1/embeddings. The simulated upstream (bluegreen's upstream.simulate) serves chat completions, the Responses API, Anthropic's messages, their token counts and the model list only.",
      },
    });
  });

  it('closes with keep-alive connections open, and close() can be called twice', async () => {
    const handle = await sim(fastConfig());
    await (await fetch(`${handle.baseUrl}/models`)).text();
    await handle.close();
    await handle.close();
    expect(await canConnect('127.0.0.1', handle.port)).toBe(false);
  });
});
