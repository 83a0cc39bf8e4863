// Live rollouts end to end: real proxies in-process in front of the simulator, the official openai client as
// the application, and `bluegreen rollout` driving the proxies through their admin API.
import OpenAI from 'openai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { ROUTE_FILE, type Route } from '../../src/proxy/route.js';
import type { LiveView } from '../../src/live/fleet.js';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { BIN } from '../e2e/helpers.js';
import { runProxy, type Running } from '../proxy/helpers.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';

export const ADMIN_TOKEN = 'live-admin-token-0123456789';

export interface LivePlanOptions {
  /** Extra fields for green's simulated profile, like "error_rate: 1". */
  green?: string;
  stages: string[];
  /** Written into proxy.controller besides admin_urls. */
  controller?: string;
  fallback?: boolean;
  thresholds?: string;
  /** Replaces the simulated upstream block (the proxies keep theirs). */
  upstream?: string;
  /** The plan's analysis.quality block, like "{ contains: x }". */
  quality?: string;
  /**
   * analysis.on_unjudged: `promote` by default, since most of these tests drive the proxies with little or no
   * application traffic (the mechanics, not the verdict), and such a rollout judges nothing.
   */
  onUnjudged?: 'rollback' | 'promote';
  /** upstream.retries, like "{ base_delay: 50ms }" (the product's defaults if absent). */
  retries?: string;
  /** traffic.rate: the requests a second the rollout sends itself with generated_traffic (5 by default). */
  rate?: number;
  /** upstream.timeout.request, like "2s" (5s by default): how long a green that never answers holds a request. */
  requestTimeout?: string;
}

/** The proxies' plan (no controller block: the proxies never read it). */
export function proxyPlan(options: Pick<LivePlanOptions, 'green' | 'fallback' | 'quality' | 'requestTimeout'> = {}): string {
  return planText({ ...options, stages: ['{ duration: 1s, green_weight: 0 }'] }, undefined);
}

function planText(options: LivePlanOptions, adminUrls: string[] | undefined): string {
  const controller =
    adminUrls && adminUrls.length > 0 ? `, controller: { admin_urls: [${adminUrls.join(', ')}]${options.controller ? `, ${options.controller}` : ''} }` : '';
  const upstream =
    options.upstream ??
    `upstream:
  api: openai
  simulate:
    seed: 5
    models:
      gpt-4o:  { latency: { p50: 3ms, p95: 6ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 } }
      gpt-4.1: { latency: { p50: 3ms, p95: 6ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 }${options.green ? `, ${options.green}` : ''} }
  timeout: { connect: 2s, request: ${options.requestTimeout ?? '5s'} }${options.retries ? `\n  retries: ${options.retries}` : ''}`;
  return `
name: live-test
${upstream}
blue:  { model: gpt-4o,  price: { input_per_mtok: 1, output_per_mtok: 2 } }
green: { model: gpt-4.1, price: { input_per_mtok: 1, output_per_mtok: 2 } }
traffic: { rate: ${options.rate ?? 5} }
stages:
${options.stages.map((s) => `  - ${s}`).join('\n')}
analysis:
  interval: 200ms
  min_requests: 5
  thresholds: { ${options.thresholds ?? 'error_rate: 0.2'} }${options.quality ? `\n  quality: ${options.quality}` : ''}
  on_unjudged: ${options.onUnjudged ?? 'promote'}
proxy: { fallback: ${options.fallback ?? true}, admin: { token_env: ADMIN_TOKEN }${controller} }
`;
}

/** Writes the rollout's plan (driving the given proxies, or admin URLs) into a fresh folder; returns the folder. */
export function writeRolloutPlan(options: LivePlanOptions, proxies: (Running | string)[]): string {
  const dir = tempDir('bluegreen-live-');
  writeFileSync(
    path.join(dir, 'plan.yaml'),
    planText(
      options,
      proxies.map((p) => (typeof p === 'string' ? p : (p.proxy.adminUrl as string))),
    ),
  );
  return dir;
}

/** `now`: the proxies' clock (a test's fake clock, so their leases run out with the rollout's). */
export type ProxyOptions = Pick<LivePlanOptions, 'green' | 'fallback' | 'quality' | 'requestTimeout'> & { stateDirs?: string[]; now?: () => number };

export async function startProxies(count: number, options: ProxyOptions = {}): Promise<Running[]> {
  const all: Running[] = [];
  for (let i = 0; i < count; i++) {
    all.push(await runProxy(proxyPlan(options), { env: { ADMIN_TOKEN }, stateDir: options.stateDirs?.[i], now: options.now }));
  }
  return all;
}

/** Starts what a live test needs and stops it after each test (the application first, then every proxy). */
export interface LiveFixture {
  /** In-process proxies in front of the simulator; a test may close one itself (closing twice is harmless). */
  startProxies(count: number, options?: ProxyOptions): Promise<Running[]>;
  /** The demo application through the given proxies. */
  application(proxies: Pick<Running, 'baseUrl'>[], concurrency?: number): Application;
  /** `bluegreen rollout plan.yaml --ci` as its own process in `dir` (killed after the test if still running). */
  spawnRollout(dir: string, args?: string[]): ChildProcess;
  /** A `bluegreen proxy` process (not started yet), killed with -9 after the test. */
  proxyProcess(...args: ConstructorParameters<typeof ProxyProcess>): ProxyProcess;
}

/** Call once at the top of a test file: registers the afterEach that tears down what each test started. */
export function liveFixture(): LiveFixture {
  let proxies: Running[] = [];
  let apps: Application[] = [];
  let children: ChildProcess[] = [];
  let processes: ProxyProcess[] = [];
  afterEach(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children = [];
    for (const app of apps) await app.stop();
    for (const proxy of proxies) await proxy.close();
    for (const proxy of processes) await proxy.kill();
    apps = [];
    proxies = [];
    processes = [];
  });
  return {
    async startProxies(count, options) {
      const started = await startProxies(count, options);
      proxies.push(...started);
      return started;
    },
    application(through, concurrency) {
      const app = new Application(through, concurrency);
      apps.push(app);
      return app;
    },
    spawnRollout(dir, args = []) {
      const child = spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci', ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, ADMIN_TOKEN },
        stdio: 'ignore',
      });
      children.push(child);
      return child;
    },
    proxyProcess(...args) {
      const proxy = new ProxyProcess(...args);
      processes.push(proxy);
      return proxy;
    },
  };
}

/** The demo application: steady chat requests through the proxies, counting the arm that answered each. */
export class Application {
  readonly arms = { blue: 0, green: 0 };
  fallbacks = 0;
  failures = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(proxies: Pick<Running, 'baseUrl'>[], concurrency = 2) {
    const clients = proxies.map((p) => new OpenAI({ baseURL: p.baseUrl, apiKey: 'app-key', maxRetries: 0 }));
    this.loops = Array.from({ length: concurrency * clients.length }, (_, i) => this.loop(clients[i % clients.length] as OpenAI, i));
  }

  get total(): number {
    return this.arms.blue + this.arms.green + this.failures;
  }

  private async loop(client: OpenAI, id: number): Promise<void> {
    let n = 0;
    while (this.running) {
      try {
        const { response } = await client.chat.completions
          .create({ model: 'gpt-4o', user: `user-${id}-${n++}`, messages: [{ role: 'user', content: 'hello' }] })
          .withResponse();
        const arm = response.headers.get('x-bluegreen-arm');
        if (arm === 'blue' || arm === 'green') this.arms[arm]++;
        if (response.headers.get('x-bluegreen-fallback') === 'true') this.fallbacks++;
      } catch {
        this.failures++;
      }
      // A steady pace, like an application serving users (not a load test).
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** Stage 1 as the running rollout in a project folder last saved it (every second), or undefined before its first save. */
export function savedStage(dir: string): RolloutSnapshot['stages'][number] | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot).stages[0];
  } catch {
    return undefined;
  }
}

/** The rollout's live.json in a project folder, or undefined while it is not written (yet). */
export function liveView(dir: string): LiveView | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'live.json'), 'utf8')) as LiveView;
  } catch {
    return undefined;
  }
}

/**
 * Where freePorts looks: below the system's ephemeral range (Linux's ip_local_port_range, 32768-60999 by default;
 * 49152 and up on macOS and Windows), from which every `listen(0)` on the machine takes its port. A port handed out
 * from that range and released could be taken by any process's next `listen(0)` (another test file's servers, another
 * suite on the machine) before a restarted proxy came back on it; nobody is given one below it unless they ask.
 */
function portRange(): { low: number; high: number } {
  let ephemeralStart = 32768;
  try {
    ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralStart;
  } catch {
    // Not Linux: its ranges start higher.
  }
  return { low: 10_000, high: Math.min(32767, ephemeralStart - 1) };
}

/** A server on a port of the range that nothing else listens on, trying random ones until one binds. */
async function bindInRange({ low, high }: { low: number; high: number }): Promise<Server> {
  for (;;) {
    const server = createServer();
    const port = low + Math.floor(Math.random() * (high - low + 1));
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return server;
  }
}

/** Loopback ports nothing listens on now (bound together, then released), for a process that must come back on them. */
export async function freePorts(count: number): Promise<number[]> {
  // Bound at the same time, so no two are the same port; outside the ephemeral range (portRange).
  const range = portRange();
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) servers.push(await bindInRange(range));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

/** A loopback port nothing listens on now (bound, then released). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/**
 * A loopback port that refuses every connection (ECONNREFUSED) for as long as the test runs: the address of a proxy or
 * upstream meant to get no answer. A port bound and released (freePort) can be taken by another process's next
 * listen before the test connects to it, and then it answers. These are below 1024: outside the ephemeral range that
 * every `listen(0)` and every outgoing connection's own port come from (so not even a connection to itself), below
 * freePorts' range, and asked for by nothing in the suite. Holding a port instead is not open to Node: it cannot bind
 * one without listening, and a listener that never accepts still completes the connection, so the caller would wait
 * for an answer instead of being refused. Each is checked refused before it is handed out, in case the machine runs
 * a service on it; none is on the Fetch standard's list of ports `fetch()` refuses itself (1, 7, 9, ...).
 */
export async function refusedPort(): Promise<number> {
  for (const port of [2, 3, 4, 5, 6, 8]) if (await refuses(port)) return port;
  throw new Error('every low loopback port tried (2-6, 8) answers: no address is left that is sure to refuse');
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Distinct listen and admin ports for a `bluegreen proxy` that must come back on the same addresses. */
export async function proxyPorts(): Promise<{ listen: number; admin: number }> {
  const [listen, admin] = (await freePorts(2)) as [number, number];
  return { listen, admin };
}

/**
 * `bluegreen proxy` as its own process on fixed ports and a state folder, so a test can kill -9 it and start
 * it again on the same addresses, as an operator (or systemd) would.
 */
export class ProxyProcess {
  readonly dir = tempDir('bluegreen-proxy-process-');
  readonly baseUrl: string;
  readonly adminUrl: string;
  stderr = '';
  private child?: ChildProcess;

  constructor(
    readonly stateDir: string,
    private readonly ports: { listen: number; admin: number },
    options: Pick<LivePlanOptions, 'green' | 'fallback' | 'quality' | 'requestTimeout'> = {},
  ) {
    writeFileSync(path.join(this.dir, 'plan.yaml'), proxyPlan(options));
    this.baseUrl = `http://127.0.0.1:${ports.listen}/v1`;
    this.adminUrl = `http://127.0.0.1:${ports.admin}`;
  }

  /**
   * Starts the proxy and resolves once it is up: its last startup line ("listening on", after the admin line and
   * every notice, docs/proxy.md) is on stderr. A test reading stderr at the admin line once missed a notice that
   * followed in a write of its own.
   */
  async start(): Promise<void> {
    const args = ['proxy', 'plan.yaml', '--listen', `127.0.0.1:${this.ports.listen}`, '--admin-listen', `127.0.0.1:${this.ports.admin}`];
    const child = spawn(process.execPath, [BIN, ...args, '--state-dir', this.stateDir], {
      cwd: this.dir,
      env: { PATH: process.env.PATH, ADMIN_TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    const started = this.stderr.length;
    const up = () => this.stderr.slice(started).includes('bluegreen proxy: listening on');
    await until(() => up() || child.exitCode !== null || child.signalCode !== null, 'the proxy to start').catch((error: unknown) => {
      throw new Error(`${String(error)}: ${this.stderr}`, { cause: error });
    });
    if (!up()) throw new Error(`the proxy exited (${child.exitCode ?? child.signalCode}): ${this.stderr}`);
  }

  /** SIGTERM (a deploy's stop): the proxy drains. Resolves with its exit code once it has exited. */
  async terminate(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    return child.exitCode;
  }

  /** kill -9: no goodbye, no last write. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** The route in force renewed in its rollout run's name, under a lease of `ms` (renewFor). */
  renewFor(ms: number): Promise<void> {
    return renewFor(this.adminUrl, this.route(), ms);
  }

  /** The route file the proxy keeps in its state folder. */
  route(): Route | undefined {
    try {
      return JSON.parse(readFileSync(path.join(this.stateDir, ROUTE_FILE), 'utf8')) as Route;
    } catch {
      return undefined;
    }
  }
}

/**
 * Renews `route`, a proxy's route in force, as the rollout run that set it would (its controller id, going on from its
 * own route), under a lease of `ms`: a test that needs a dead (or stopped) run's lease to run out sees it do so now, by
 * the proxy's own timer, not a whole real lease later. The run itself keeps a lease long enough (its admin calls time
 * out at a third of it, 2 s at most) that no stall of a loaded machine rolls it back before the test is ready.
 */
export async function renewFor(adminUrl: string, route: Route | undefined, ms: number): Promise<void> {
  if (route?.controller === undefined) throw new Error(`no rollout's route to renew: ${JSON.stringify(route)}`);
  const { greenWeight, mirror, reason, controller, by } = route;
  const answer = await fetch(`${adminUrl}/admin/route`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ greenWeight, mirror, reason, controller, by, goingOn: true, ttlMs: ms }),
  });
  if (answer.status !== 200) throw new Error(`the renewal was refused (${answer.status}): ${await answer.text()}`);
}

/** Sets a proxy's route through its admin API, as an operator (or another rollout) would. */
export async function putRoute(proxy: Running, route: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${proxy.proxy.adminUrl as string}/admin/route`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(route),
  });
  expect(answer.status).toBe(200);
}

/**
 * Promotes the rollout `run` in `dir` once `ready` (it has judged what the test needs, in a stage longer than the
 * test); if that never comes, aborts it first, so it is not left running its long stage after the test.
 */
export async function promoteWhen(dir: string, run: Promise<CliRun>, ready: () => boolean, what: string): Promise<void> {
  await until(ready, what).catch(async (error: unknown) => {
    await runCli(['abort'], { cwd: dir });
    await run;
    throw error;
  });
  expect((await runCli(['promote'], { cwd: dir })).code).toBe(0);
}
