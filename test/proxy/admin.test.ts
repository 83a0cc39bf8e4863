// The admin API: token required, route set under a lease that runs out on its own, figures read back.
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, Socket } from 'node:net';
import { ConnectionCap } from '../../src/proxy/connection-cap.js';
import { MAX_ADMIN_CONNECTIONS, MAX_STAGE, routeRequest } from '../../src/proxy/admin.js';
import { PROXY_INFO_FILE } from '../../src/proxy/discovery.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { tempDir } from '../helpers/plans.js';
import { runProxy, simPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const TOKEN = 'admin-token-for-tests';
const admin = (url: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
  fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? TOKEN}`, 'content-type': 'application/json' },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });

describe('admin API', () => {
  it('refuses calls without the token', async () => {
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = running.proxy.adminUrl as string;
    expect((await fetch(`${url}/admin/route`)).status).toBe(401);
    expect((await admin(`${url}/admin/route`, { token: 'admin-token-for-test' })).status).toBe(401);
    const put = await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 1, mirror: 0, ttlMs: 60_000 }, token: 'nope' });
    expect(put.status).toBe(401);
    expect(running.proxy.route.effective().greenWeight).toBe(0);
  });

  it("tells an application given the admin port as its base URL to use the proxy's listen address", async () => {
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = running.proxy.adminUrl as string;
    const error = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as Error).message).toContain(
      "this is a bluegreen proxy's admin API (paths under /admin/, for bluegreen rollout and operators, with the admin token): point the application's base URL at the proxy's listen address (proxy.listen), not at its admin one (proxy.admin.listen)",
    );
    // With the token too, a path outside /admin/ says so beside the admin paths.
    const withToken = (await (await admin(`${url}/v1/chat/completions`, { method: 'POST', body: {} })).json()) as { error: string };
    expect(withToken.error).toMatch(/^this is a bluegreen proxy's admin API .*; admin paths: GET\/PUT \/admin\/route/);
    // An admin path without the token is still told about the token.
    expect(await (await fetch(`${url}/admin/route`)).json()).toEqual({ error: 'missing or wrong admin token (Authorization: Bearer ...)' });
  });

  it('refuses a route that says its plan promises fallback when the proxy serves without it (409); blue always goes', async () => {
    const running = await runProxy(simPlan({ proxy: '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = running.proxy.adminUrl as string;
    const stage = await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0.5, mirror: 0, ttlMs: 60_000, fallback: true } });
    expect(stage.status).toBe(409);
    expect(await stage.json()).toEqual({ error: expect.stringContaining("this proxy serves without fallback to blue (its plan's proxy.fallback: false)") });
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    expect((await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0, mirror: 0 } })).status).toBe(200);
    // A rollout whose plan asks no fallback (it says none) is served as before; a malformed one is a 400.
    expect((await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0.5, mirror: 0, ttlMs: 60_000 } })).status).toBe(200);
    expect((await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0, mirror: 0, fallback: 'yes' } })).status).toBe(400);
  });

  it("answers a fresh proxy's route with revision 0, which ifRevision can name", async () => {
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = running.proxy.adminUrl as string;
    const read = (await (await admin(`${url}/admin/route`)).json()) as { route: { revision?: number } };
    expect(read.route.revision).toBe(0);
    const set = await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0, mirror: 0, ifRevision: 0 } });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { route: { revision: number } }).route.revision).toBe(1);
  });

  it('sets the route under a lease; the proxy returns to blue on its own when it is not renewed', async () => {
    const stateDir = tempDir();
    // The proxy's clock, moved by hand: the lease holds for the request after it however long a loaded machine takes
    // to send it, and runs out when the test moves the clock past it (the proxy's timer, on the real clock, finds it so).
    let now = Date.now();
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, stateDir, now: () => now });
    const url = running.proxy.adminUrl as string;
    const info = JSON.parse(readFileSync(path.join(stateDir, PROXY_INFO_FILE), 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({ url: running.proxy.url, adminUrl: url, pid: process.pid });
    expect(JSON.stringify(info)).not.toContain(TOKEN);

    const refused = await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0.5, mirror: 0 } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: expect.stringContaining('ttlMs') });
    const absurd = await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0, mirror: 0, stage: 1e308 } });
    expect(absurd.status).toBe(400);
    expect(await absurd.json()).toEqual({ error: `stage must be a whole number from 0 to ${MAX_STAGE} (the rollout's stage number)` });

    const set = await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 1, mirror: 0, ttlMs: 200, reason: 'stage 1', stage: 1 } });
    expect(set.status).toBe(200);
    const openai = new OpenAI({ baseURL: running.baseUrl, apiKey: 'x', maxRetries: 0 });
    const { response } = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('green');
    // Nobody renews the lease: the proxy's own timer puts it back on blue, with no request needed.
    now += 200;
    await until(() => running.proxy.route.stored.reason === 'lease expired: back on blue', 'the lease to run out');
    expect(running.logs.join('\n')).toContain('lease expired');
    const after = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(after.response.headers.get('x-bluegreen-arm')).toBe('blue');

    type Figures = { stage?: number; arms: { green: { successes: number }; blue: { successes: number } } };
    const figures = (await (await admin(`${url}/admin/figures`)).json()) as { stage: Figures; lifetime: Figures };
    expect(figures.stage).toMatchObject({ stage: 1, arms: { green: { successes: 1 }, blue: { successes: 1 } } });
    // A new stage starts its figures afresh; the lifetime set (and Prometheus) keeps counting.
    await admin(`${url}/admin/route`, { method: 'PUT', body: { greenWeight: 0, mirror: 0, stage: 2 } });
    const next = (await (await admin(`${url}/admin/figures`)).json()) as { stage: Figures; lifetime: Figures };
    expect(next.stage).toMatchObject({ stage: 2, arms: { green: { successes: 0 }, blue: { successes: 0 } } });
    expect(next.lifetime.arms.green.successes).toBe(1);
  });

  it('keeps a promotion across a restart of the proxy', async () => {
    const stateDir = tempDir();
    const plan = simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' });
    let running = await runProxy(plan, { env: { ADMIN_TOKEN: TOKEN }, stateDir });
    const put = await admin(`${running.proxy.adminUrl as string}/admin/route`, {
      method: 'PUT',
      body: { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' },
    });
    expect(put.status).toBe(200);
    await running.proxy.route.flush();
    await running.close();
    running = await runProxy(plan, { env: { ADMIN_TOKEN: TOKEN }, stateDir });
    const openai = new OpenAI({ baseURL: running.baseUrl, apiKey: 'x', maxRetries: 0 });
    const { response } = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('green');
  });

  it('makes room past its connection limit by closing the oldest that has not shown the token: a rollback gets through', async () => {
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = new URL(running.proxy.adminUrl as string);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
        socket.on('error', reject);
      });
    const closed = (socket: Socket): Promise<string> =>
      new Promise((resolve) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
      });
    // Slow clients without the token take every place: each sends the start of its headers and no more.
    const slow: Socket[] = [];
    for (let i = 0; i < MAX_ADMIN_CONNECTIONS; i++) {
      const socket = await open();
      socket.write('GET /admin/route HTTP/1.1\r\nhost: 127.0.0.1\r\n');
      slow.push(socket);
    }
    const oldestGone = closed(slow[0] as Socket);
    // An operator's call gets in at once (it was closed at once, and had to wait for their header timeouts).
    const operator = await open();
    const answered = closed(operator);
    operator.write(`GET /admin/route HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\nconnection: close\r\n\r\n`);
    expect(await answered).toMatch(/^HTTP\/1\.1 200 OK/);
    // The oldest slow one was cut for it (or by its header timeout, on a machine slow enough to pass it first).
    await oldestGone;
    for (const socket of slow) socket.destroy();
  });

  it("says which plan and models it serves, and refuses a route set for another's (409), whatever it asks", async () => {
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const serves = ((await (await admin(url)).json()) as { serves: string }).serves;
    expect(serves).toBe('proxy-test (gpt-4o -> gpt-4.1)');
    for (const body of [
      { greenWeight: 1, mirror: 0, promotedArm: 'green', rollout: 'proxy-test (gpt-4o -> o3)' },
      { greenWeight: 0.5, mirror: 0, ttlMs: 60_000, rollout: 'another-plan (gpt-4o -> gpt-4.1)' },
    ]) {
      const refused = await admin(url, { method: 'PUT', body });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toEqual({
        error: `this proxy serves proxy-test (gpt-4o -> gpt-4.1), not ${body.rollout}: only a rollout of that plan and models sets its route`,
      });
    }
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    // Its own plan's rollout, and a call naming none (curl by hand), set it as before.
    expect((await admin(url, { method: 'PUT', body: { greenWeight: 0.5, mirror: 0, ttlMs: 60_000, rollout: serves } })).status).toBe(200);
    expect(running.proxy.route.effective().greenWeight).toBe(0.5);
    const byHand = await admin(url, { method: 'PUT', body: { greenWeight: 0, mirror: 0 } });
    expect(byHand.status).toBe(200);
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    // Its answer's `rollout` is the proxy's own stamp (its `serves`, on every route it holds), not the caller's: a hand
    // route tells itself apart by having no controller (docs/proxy.md, Admin API).
    const { route } = (await byHand.json()) as { route: Record<string, unknown> };
    expect(route.rollout).toBe(serves);
    expect(route.controller).toBeUndefined();
  });

  it("lets a controller go on from its own route only: not over an operator's or another controller's, but over its lease's expiry", async () => {
    let now = Date.now();
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, now: () => now });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const put = async (body: Record<string, unknown>) => {
      const answer = await admin(url, { method: 'PUT', body: { greenWeight: 0.5, mirror: 0, ttlMs: 5000, ...body } });
      return { status: answer.status, body: (await answer.json()) as { error?: string; lapsedAt?: number } };
    };
    expect((await put({ controller: 'run-a' })).status).toBe(200);
    // Its renewals go on, whether or not it heard the answer to the one before (a slow proxy, a timeout).
    expect((await put({ controller: 'run-a', goingOn: true })).status).toBe(200);
    expect((await put({ controller: 'run-a', goingOn: true })).status).toBe(200);
    // Another run of a rollout going on from its own route finds run-a's: refused.
    expect((await put({ controller: 'run-b', goingOn: true })).status).toBe(409);
    // The proxy's own return to blue is no one's route: run-a goes on, and hears since when it was on blue.
    now += 6000;
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    const lapsed = await put({ controller: 'run-a', goingOn: true });
    expect(lapsed).toEqual({ status: 200, body: expect.objectContaining({ lapsedAt: now }) as unknown });
    // An operator's blue by hand: run-a may not undo it.
    expect((await admin(url, { method: 'PUT', body: { greenWeight: 0, mirror: 0, reason: 'operator' } })).status).toBe(200);
    const refused = await put({ controller: 'run-a', goingOn: true });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/^the route was changed since this rollout set it: green 0%, mirror 0% \(operator\), set at /);
    expect(running.proxy.route.effective().greenWeight).toBe(0);
  });

  it("does not let a controller reopen an operator's route whose lease ran out (only its own lapsed lease)", async () => {
    let now = Date.now();
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, now: () => now });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const put = async (body: Record<string, unknown>) =>
      (await admin(url, { method: 'PUT', body: { greenWeight: 0.5, mirror: 0, ttlMs: 5000, ...body } })).status;
    expect(await put({ controller: 'run-a' })).toBe(200);
    // run-a falls silent; its lease runs out; an operator sets a split of their own by hand, which lapses too.
    now += 6000;
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    expect(await put({ greenWeight: 0.2, reason: 'operator trying 20%' })).toBe(200);
    now += 6000;
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    // run-a comes back: the lapsed route is the operator's, not its own.
    expect(await put({ controller: 'run-a', goingOn: true })).toBe(409);
    expect(running.proxy.route.effective().greenWeight).toBe(0);
  });

  it('answers a route once it is saved in the state folder (a kill -9 after the answer restarts on it)', async () => {
    const stateDir = tempDir('bluegreen-admin-');
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, stateDir });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    for (let i = 0; i < 10; i++) {
      const reason = `change ${i}`;
      const body = i % 2 ? { greenWeight: 0.5, mirror: 0, ttlMs: 60_000, reason } : { greenWeight: 0, mirror: 0, reason };
      expect((await admin(url, { method: 'PUT', body })).status).toBe(200);
      expect((JSON.parse(readFileSync(path.join(stateDir, ROUTE_FILE), 'utf8')) as { reason: string }).reason).toBe(reason);
    }
  });

  it('refuses what a controller sends after its ending (a late renewal, an earlier ending), but takes the same ending again', async () => {
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const put = async (body: Record<string, unknown>) => {
      const answer = await admin(url, { method: 'PUT', body: { mirror: 0, controller: 'run-a', ...body } });
      return { status: answer.status, body: (await answer.json()) as { error?: string } };
    };
    expect((await put({ greenWeight: 0.5, ttlMs: 60_000 })).status).toBe(200);
    // The rollback: blue, this run's last route.
    const rollback = { greenWeight: 0, reason: 'rollback: breach', ended: true };
    expect((await put(rollback)).status).toBe(200);
    // A renewal that left before it, woken late: refused, green stays closed.
    const late = await put({ greenWeight: 0.5, ttlMs: 60_000, goingOn: true });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(/^this rollout already ended here: green 0%, mirror 0% \(rollback: breach\), set at /);
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    // A promotion that left before the rollback: refused too.
    expect((await put({ greenWeight: 1, promotedArm: 'green', ended: true, goingOn: true })).status).toBe(409);
    expect(running.proxy.route.stored.promotedArm).toBeUndefined();
    // The same ending again (a retry whose answer was lost) goes.
    expect((await put({ ...rollback, goingOn: true })).status).toBe(200);
    // Another run, or an operator, sets the route as ever.
    expect((await admin(url, { method: 'PUT', body: { greenWeight: 0.2, mirror: 0, ttlMs: 60_000, controller: 'run-b' } })).status).toBe(200);
    expect(running.proxy.route.effective().greenWeight).toBe(0.2);
  });

  it("keeps one rollout run's proxy from another: no first route over its live lease, no ending over its promotion; blue by hand always goes", async () => {
    let now = Date.now();
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, now: () => now });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const put = async (body: Record<string, unknown>) => {
      const answer = await admin(url, { method: 'PUT', body: { mirror: 0, ...body } });
      return { status: answer.status, ...((await answer.json()) as { error?: string; code?: string }) };
    };
    const a = { controller: 'run-a', by: 'alice@ci-1 pid 7, state folder /a/.bluegreen' };
    expect((await put({ ...a, greenWeight: 0.5, ttlMs: 5000 })).status).toBe(200);
    // Another run's first route to green: refused, naming who holds the proxy and until when.
    const held = await put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 5000 });
    expect(held).toMatchObject({ status: 409, code: 'held' });
    expect(held.error).toBe(
      `another rollout drives this proxy until its lease runs out at ${new Date(now + 5000).toISOString()} (renewed while it runs): green 50%, mirror 0%, ` +
        `set at ${new Date(now).toISOString()} by ${a.by}; wait for it to end, or stop it (bluegreen abort or rollback in its state folder)`,
    );
    expect(running.proxy.route.stored).toMatchObject({ controller: 'run-a', greenWeight: 0.5 });
    // A resumed run of it (run-a died) takes its own lease over.
    expect((await put({ controller: 'run-c', resumes: ['run-a'], greenWeight: 0.5, ttlMs: 5000 })).status).toBe(200);
    // Once the holder's lease has run out, anyone's.
    now += 6000;
    expect((await put({ ...a, greenWeight: 0.5, ttlMs: 5000 })).status).toBe(200);

    // run-a promotes (its ending); another run's ending (its rollback) does not undo that.
    expect((await put({ ...a, greenWeight: 1, promotedArm: 'green', ended: true, goingOn: true })).status).toBe(200);
    const undo = await put({ controller: 'run-b', greenWeight: 0, reason: 'rollback: breach', ended: true });
    expect(undo).toMatchObject({ status: 409, code: 'promoted' });
    expect(undo.error).toMatch(/^another rollout promoted green here at .* \(alice@ci-1 pid 7, state folder \/a\/\.bluegreen: promoted green\)/);
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 1, mirror: 0 });
    // A new rollout going from blue on purpose (--from-blue) starts over it; an operator's blue always goes.
    expect((await put({ controller: 'run-d', greenWeight: 0.1, ttlMs: 5000 })).status).toBe(200);
    expect((await put({ greenWeight: 0.5, ttlMs: 5000, controller: 'run-e' })).code).toBe('held');
    expect((await put({ greenWeight: 0, reason: 'operator' })).status).toBe(200);
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  });

  it('takes a route conditional on the one read (ifUpdatedAt) only while that route is in force', async () => {
    let now = Date.now();
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, now: () => now });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const put = async (body: Record<string, unknown>) => {
      const answer = await admin(url, { method: 'PUT', body: { mirror: 0, ...body } });
      return { status: answer.status, ...((await answer.json()) as { error?: string; code?: string; route?: { updatedAt: number } }) };
    };
    const ended = await put({ controller: 'run-a', greenWeight: 0, reason: 'rollback: breach', ended: true });
    const read = ended.route?.updatedAt as number;
    // Another run's first route lands after the read: the conditional blue is refused and changes nothing.
    now += 1000;
    expect((await put({ controller: 'run-b', by: 'bob@ci pid 7, state folder /b', greenWeight: 0.5, ttlMs: 60_000 })).status).toBe(200);
    now += 1000;
    const refused = await put({ controller: 'run-a', greenWeight: 0, ended: true, ifUpdatedAt: read });
    expect(refused).toMatchObject({ status: 409, code: 'changed' });
    expect(refused.error).toBe(
      `the route was changed since it was read (the one set at ${new Date(read).toISOString()}): green 50%, mirror 0%, ` +
        `set at ${new Date(read + 1000).toISOString()} by another rollout (bob@ci pid 7, state folder /b)`,
    );
    expect(running.proxy.route.stored).toMatchObject({ controller: 'run-b', greenWeight: 0.5 });
    // Over the route in force, it goes.
    const current = running.proxy.route.stored.updatedAt;
    expect((await put({ greenWeight: 0, reason: 'operator', ifUpdatedAt: current })).status).toBe(200);
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  });

  // loose18: the condition compared ms timestamps, so a route set in the same ms as the one read (or under a clock
  // stepped back) passed for it. The revision the proxy bumps on each route set tells them apart.
  it('takes a route conditional on the revision read (ifRevision), which two routes set in the same ms do not share', async () => {
    const now = Date.now();
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, now: () => now });
    const url = `${running.proxy.adminUrl as string}/admin/route`;
    const put = async (body: Record<string, unknown>) => {
      const answer = await admin(url, { method: 'PUT', body: { mirror: 0, ...body } });
      return { status: answer.status, ...((await answer.json()) as { error?: string; code?: string; route?: { updatedAt: number; revision?: number } }) };
    };
    const ended = await put({ controller: 'run-a', greenWeight: 0, reason: 'rollback: breach', ended: true });
    const read = (await (await admin(url)).json()) as { route: { updatedAt: number; revision: number } };
    expect(read.route).toMatchObject({ updatedAt: ended.route?.updatedAt, revision: ended.route?.revision });
    // Another run's first route lands in the same ms: the same updatedAt, the next revision.
    const other = await put({ controller: 'run-b', by: 'bob@ci pid 7, state folder /b', greenWeight: 0.5, ttlMs: 60_000 });
    expect(other.route).toMatchObject({ updatedAt: read.route.updatedAt, revision: read.route.revision + 1 });
    const refused = await put({ controller: 'run-a', greenWeight: 0, ended: true, ifRevision: read.route.revision, ifUpdatedAt: read.route.updatedAt });
    expect(refused).toMatchObject({ status: 409, code: 'changed' });
    // Not going on from its own route (no goingOn): no route in force named for it to go on from (goOnFrom).
    expect(refused).not.toHaveProperty('goOnFrom');
    expect(refused.error).toBe(
      `the route was changed since it was read (the one set at ${new Date(now).toISOString()}, revision ${read.route.revision}): green 50%, mirror 0%, ` +
        `set at ${new Date(now).toISOString()} by another rollout (bob@ci pid 7, state folder /b)`,
    );
    expect(running.proxy.route.stored).toMatchObject({ controller: 'run-b', greenWeight: 0.5 });
    // A caller from before revisions (ifUpdatedAt alone) cannot tell the two apart: its blue goes over the other run's.
    expect((await put({ greenWeight: 0, reason: 'older caller', ifUpdatedAt: read.route.updatedAt })).status).toBe(200);
    // Over the revision in force, it goes.
    const current = running.proxy.route.stored.revision as number;
    expect((await put({ greenWeight: 0, reason: 'operator', ifRevision: current })).route?.revision).toBe(current + 1);
    // The revision alone (no time sent) is said as a revision: "the one of revision N", not "the one revision N".
    const stale = await put({ greenWeight: 0, reason: 'stale', ifRevision: current });
    expect(stale).toMatchObject({ status: 409, code: 'changed' });
    expect(stale.error).toContain(`since it was read (the one of revision ${current}): `);
  });

  it('checks route requests field by field', () => {
    // hostile36: a list (even one holding a route) is no route, said so rather than blamed on greenWeight.
    expect(routeRequest([{ greenWeight: 0, mirror: 0 }], 0)).toBe('expected a JSON object');
    expect(routeRequest(null, 0)).toBe('expected a JSON object');
    expect(routeRequest({ greenWeight: 2, mirror: 0 }, 0)).toMatch(/greenWeight/);
    expect(routeRequest({ greenWeight: 0, mirror: -1 }, 0)).toMatch(/mirror/);
    expect(routeRequest({ greenWeight: 0.1, mirror: 0, ttlMs: 0 }, 0)).toMatch(/ttlMs/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, promotedArm: 'red' }, 0)).toMatch(/promotedArm/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, stage: 1.5 }, 0)).toMatch(/stage/);
    // Whole numbers all, yet no stage nor time (session 21: 1e308 was taken as a stage, and its figures' tag).
    expect(routeRequest({ greenWeight: 0, mirror: 0, stage: 1e308 }, 0)).toBe(
      `stage must be a whole number from 0 to ${MAX_STAGE} (the rollout's stage number)`,
    );
    expect(routeRequest({ greenWeight: 0, mirror: 0, stage: MAX_STAGE + 1 }, 0)).toMatch(/stage/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, stage: MAX_STAGE }, 0)).toEqual({ route: { greenWeight: 0, mirror: 0 }, stage: MAX_STAGE });
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifUpdatedAt: 1e308 }, 0)).toMatch(/ifUpdatedAt must be a number from 0 to 8640000000000000/);
    expect(routeRequest({ greenWeight: 0.1, mirror: 0.2, ttlMs: 5000, stage: 2 }, 100)).toEqual({
      route: { greenWeight: 0.1, mirror: 0.2, leaseExpiresAt: 5100 },
      stage: 2,
    });
    expect(routeRequest({ greenWeight: 0, mirror: 0 }, 0)).toEqual({ route: { greenWeight: 0, mirror: 0 } });
    expect(routeRequest({ greenWeight: 0, mirror: 0, rollout: 7 }, 0)).toMatch(/rollout/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, goingOn: true }, 0)).toMatch(/goingOn/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ended: true }, 0)).toMatch(/ended/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ended: 'yes', controller: 'x' }, 0)).toMatch(/ended/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, controller: 'x'.repeat(101) }, 0)).toMatch(/controller/);
    // Printed in another rollout's refusal ('run <controller>'): no terminal escapes, nor a spoofed second line.
    expect(routeRequest({ greenWeight: 0, mirror: 0, controller: 'run\u001b[2J' }, 0)).toMatch(/^controller must be an id/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, controller: 'a\nb' }, 0)).toMatch(/^controller must be an id/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, resumes: ['ok-id', 'bad id'] }, 0)).toMatch(/^resumes must be/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, controller: '6f1c2a7e-0b1d-4c55-9a0e-3f2b8d9c1e04' }, 0)).toEqual({
      route: { greenWeight: 0, mirror: 0, controller: '6f1c2a7e-0b1d-4c55-9a0e-3f2b8d9c1e04' },
    });
    expect(routeRequest({ greenWeight: 0, mirror: 0, by: 7 }, 0)).toMatch(/by/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, resumes: 'run-a' }, 0)).toMatch(/resumes/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, resumes: Array(17).fill('run') }, 0)).toMatch(/resumes/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifUpdatedAt: '5' }, 0)).toMatch(/ifUpdatedAt/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifUpdatedAt: -1 }, 0)).toMatch(/ifUpdatedAt/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifUpdatedAt: 5 }, 0)).toEqual({ route: { greenWeight: 0, mirror: 0 }, ifUpdatedAt: 5 });
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifRevision: 1.5 }, 0)).toMatch(/ifRevision/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifRevision: -1 }, 0)).toMatch(/ifRevision/);
    expect(routeRequest({ greenWeight: 0, mirror: 0, ifRevision: 3, ifUpdatedAt: 5 }, 0)).toEqual({
      route: { greenWeight: 0, mirror: 0 },
      ifRevision: 3,
      ifUpdatedAt: 5,
    });
    // The reason is printed by the proxy and by status: one line, no terminal escapes (a screen clear, a title).
    expect(routeRequest({ greenWeight: 0, mirror: 0, reason: 'back\u001b[2J\u001b]0;pwned\u0007 on\nblue' }, 0)).toEqual({
      route: { greenWeight: 0, mirror: 0, reason: 'back [2J ]0;pwned on blue' },
    });
  });
});

describe('admin connections', () => {
  // Unconnected sockets: admit() closes some (destroyed at once), and a place frees on its socket's close event.
  it('keeps those that showed the token: past the limit the oldest of the others goes, or the new one when there is none', async () => {
    const connections = new ConnectionCap(3);
    const [rollout, stranger, other, operator, late, next] = Array.from({ length: 6 }, () => new Socket()) as [Socket, Socket, Socket, Socket, Socket, Socket];
    for (const socket of [rollout, stranger, other]) connections.admit(socket);
    connections.vouch(rollout);
    connections.admit(operator);
    expect([rollout, stranger, other, operator].map((socket) => socket.destroyed)).toEqual([false, true, false, false]);
    connections.vouch(other);
    connections.vouch(operator);
    connections.admit(late);
    expect(late.destroyed).toBe(true);
    // A place freed by a close is free again.
    const gone = new Promise((resolve) => rollout.once('close', resolve));
    rollout.destroy();
    await gone;
    connections.admit(next);
    expect(next.destroyed).toBe(false);
    for (const socket of [other, operator, next]) socket.destroy();
  });
});
