// `bluegreen proxy PLAN`: serve the application's own requests, split between blue and green (docs/proxy.md).
import { openEndpoints, type Endpoints } from '../endpoints.js';
import { EXIT, UsageError } from '../../core/exit.js';
import { formatDuration, formatPlural } from '../../core/format.js';
import { loadPlanInWorker } from '../../plan/load-in-worker.js';
import { ARMS, type ArmName, type Plan } from '../../plan/plan.js';
import { fileLimitNotice, isLoopback, openFileLimit, passthroughNotice, proxySettings, reachableUrl, type ProxySettings } from '../../proxy/config.js';
import { startingRouteNotice } from '../../proxy/route.js';
import { startProxy, type Listener, type ProxyHandle } from '../../proxy/server.js';
import type { ArmUpstream } from '../../proxy/targets.js';
import { stateDir } from '../../state/files.js';
import { proxyHolding } from '../../proxy/discovery.js';
import { preflight, readApiKey } from '../../upstream/index.js';
import type { CliContext } from '../context.js';
import { protectPlanSecrets } from '../secrets.js';
import type { ProxyFlags } from '../definitions/proxy.js';

/**
 * Serves until `stop` aborts (with the exit code to return), then drains (proxy.limits.drain_timeout, or until
 * `force` aborts: a second signal) and closes. `onReady` is for tests.
 */
export async function runProxy(
  file: string,
  flags: ProxyFlags,
  ctx: CliContext,
  stop: AbortSignal,
  onReady?: (proxy: ProxyHandle) => void,
  force?: AbortSignal,
): Promise<number> {
  // In a worker that exits, so the plan's schema does not stay in the heap of a process that runs for days. A signal
  // while it loads (a named pipe whose writer is slow) stops the start, as during the preflight below.
  const plan = await unlessStopped(loadPlanInWorker(file, ctx.cwd, stop), stop);
  if (plan === undefined) return stoppedWhileStarting(ctx, stop);
  // A plan written for generated traffic: the proxy would serve blue forever while a rollout of the same plan
  // moved only its generated requests. Asked for explicitly rather than guessed.
  const block = plan.proxy;
  if (block === undefined) throw new UsageError(noProxyBlock(file, plan));
  // Upstream and client keys are redacted from everything the proxy prints.
  protectPlanSecrets(ctx, plan);
  const settings = proxySettings(plan, block, { listen: flags.listen, adminListen: flags.adminListen, env: ctx.env, cwd: ctx.cwd });
  const endpoints = await openEndpoints(plan);
  try {
    // A signal while the upstream is checked (a silent one takes 10 s) stops the start: nothing is served yet.
    const checked = await unlessStopped(
      preflight(
        ARMS.map((arm) => endpoints.arms[arm]),
        { env: ctx.env, cwd: ctx.cwd },
      ),
      stop,
    );
    if (checked === undefined) return stoppedWhileStarting(ctx, stop);
    for (const warning of checked.warnings) ctx.stderr.write(`bluegreen: warning: ${warning}\n`);
    const upstreams = armUpstreams(endpoints, ctx);
    const log = (message: string) => ctx.stderr.write(`bluegreen proxy: ${message}\n`);
    const folder = stateDir(flags.stateDir, ctx.env, ctx.cwd);
    const proxy = await startProxy({ plan, settings, upstreams, env: ctx.env, stateDir: folder, log, redactor: ctx.redactor }).catch((error: unknown) => {
      // Its own folder and the default one: where another bluegreen proxy holding the port may be recorded.
      throw bindError(error, settings, (where) => proxyHolding(where, [folder, stateDir(undefined, ctx.env, ctx.cwd)]));
    });
    startupNotices(plan, settings, proxy, log);
    onReady?.(proxy);
    if (!stop.aborted) await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
    await drain(proxy, settings.limits.drainTimeoutMs, force, log);
    await proxy.close();
    return typeof stop.reason === 'number' ? stop.reason : EXIT.promoted;
  } finally {
    await endpoints.close();
  }
}

/** Each arm's upstream, with its key read (from the environment or ./.env). */
function armUpstreams(endpoints: Endpoints, ctx: CliContext): Record<ArmName, ArmUpstream> {
  const upstreams = {} as Record<ArmName, ArmUpstream>;
  for (const arm of ARMS) {
    const { model, upstream } = endpoints.arms[arm];
    const apiKey = upstream.apiKeyEnv ? readApiKey(upstream.apiKeyEnv, ctx.env, ctx.cwd) : undefined;
    upstreams[arm] = { arm, model, upstream, ...(apiKey !== undefined && { apiKey }) };
  }
  return upstreams;
}

/** A listener that could not bind, as a usage error naming the option that sets its address; any other error as it is. */
function bindError(error: unknown, settings: ProxySettings, holder: (where: string) => string | undefined): unknown {
  const { code, address, port, listener } = error as NodeJS.ErrnoException & { address?: string; port?: number; listener?: Listener };
  const where = address !== undefined ? `${address}:${port ?? ''}` : `${settings.host}:${settings.port}`;
  const which = listener === 'admin' ? '--admin-listen' : '--listen';
  // The admin API binds second: on the proxy's own port it finds it taken, by the proxy itself.
  if (code === 'EADDRINUSE' && listener === 'admin' && settings.admin?.port === settings.port)
    return new UsageError(
      `the admin API's ${where} clashes with the proxy's own address (--listen ${settings.host}:${settings.port}); give it a port of its own with --admin-listen`,
    );
  if (code === 'EADDRINUSE') {
    const by = holder(where);
    return new UsageError(`${where} is already in use${by ? ` by ${by}` : ''}; pick another address with ${which}`);
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') return new UsageError(`cannot listen on ${where} (${code}); pick another address with ${which}`);
  return error;
}

/** What the proxy says once it listens: the admin API, passthrough, file limit, starting route; last, where it listens. */
/**
 * Why a plan without a proxy block is refused, and what to add. Arms of two dialects (rollouts/anthropic.yaml) are
 * said at once: `proxy: {}` would only lead to the plan check's refusal (the proxy does not translate).
 */
function noProxyBlock(file: string, plan: Plan): string {
  const [blue, green] = [plan.arms.blue.upstream.api, plan.arms.green.upstream.api];
  if ((blue === 'anthropic') !== (green === 'anthropic'))
    return (
      `${file} has no proxy block, and its arms speak different APIs (blue ${blue}, green ${green}), which \`bluegreen proxy\` does not translate between: ` +
      `roll this change out on generated traffic (\`bluegreen rollout ${file}\`), or serve both models in one dialect (an OpenAI-compatible relay in front of Claude, say) and add a proxy block (docs/proxy.md)`
    );
  return `${file} has no proxy block: \`bluegreen proxy\` serves plans written for live traffic. Add \`proxy: {}\` for the defaults (127.0.0.1:8787, fallback to blue), with \`admin: { token_env: VAR }\` so \`bluegreen rollout\` can move its traffic (docs/proxy.md)`;
}

function startupNotices(plan: Plan, settings: ProxySettings, proxy: ProxyHandle, log: (message: string) => void): void {
  if (proxy.adminUrl && settings.admin) {
    // Off loopback the token crosses the network as a bearer header over plain HTTP (docs/operations.md, TLS).
    const exposed = isLoopback(settings.admin.host) ? '' : '; it is off loopback, and plain HTTP carries the token: keep it on a private network or behind TLS';
    log(`admin API on ${reachableUrl(proxy.adminUrl, settings.admin.host)} (token from ${plan.proxy?.admin?.token_env ?? ''})${exposed}`);
  }
  log(passthroughNotice(settings));
  const files = fileLimitNotice(settings.limits.maxConnections, openFileLimit());
  if (files !== undefined) log(files);
  const starting = startingRouteNotice(proxy.route.stored, proxy.route.effective(), Date.now());
  if (starting !== undefined) log(starting);
  if (!settings.admin) {
    const { greenWeight, mirror } = proxy.route.effective();
    const serves = greenWeight === 1 ? '; it serves green' : greenWeight === 0 && mirror === 0 ? '; it serves blue' : '';
    log(`no admin API (the plan has no proxy.admin): no rollout can move this proxy's traffic${serves}`);
  }
  // Last, so a script (or a test) that waits for this line has every startup notice before it (docs/proxy.md).
  const reachable = reachableUrl(proxy.url, settings.host);
  const base = plan.arms.blue.upstream.api === 'anthropic' ? reachable : `${reachable}/v1`;
  const where = reachable === proxy.url ? '' : ' (THIS_HOST: a name or address of this machine the application can reach)';
  log(`listening on ${proxy.url}: point the application's base URL at ${base}${where}; metrics at ${reachable}/metrics`);
}

/** Says the start was stopped; the signal's exit code. */
function stoppedWhileStarting(ctx: CliContext, stop: AbortSignal): number {
  ctx.stderr.write('bluegreen proxy: stopped while starting, before it served anything\n');
  return typeof stop.reason === 'number' ? stop.reason : EXIT.sigint;
}

/** `work`'s result, or undefined as soon as `stop` aborts (then `work` is left to settle unseen). */
async function unlessStopped<T>(work: Promise<T>, stop: AbortSignal): Promise<T | undefined> {
  work.catch(() => undefined);
  if (stop.aborted) return undefined;
  let onStop: (() => void) | undefined;
  const stopped = new Promise<undefined>((resolve) => {
    onStop = () => resolve(undefined);
    stop.addEventListener('abort', onStop, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    if (onStop) stop.removeEventListener('abort', onStop);
  }
}

/** Lets the requests in flight finish (saying so when there are any), then says what is cut. */
async function drain(proxy: ProxyHandle, timeoutMs: number, force: AbortSignal | undefined, log: (message: string) => void): Promise<void> {
  const running = proxy.inFlight();
  if (running > 0 && timeoutMs > 0) {
    log(
      `stopping: letting ${formatPlural(running, 'request')} in flight finish (up to ${formatDuration(timeoutMs)}, proxy.limits.drain_timeout; a second signal stops at once)`,
    );
  }
  const left = await proxy.drain(timeoutMs, force);
  if (left > 0) log(`stopping: cutting ${formatPlural(left, 'request')} still in flight`);
}
