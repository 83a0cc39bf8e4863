// Each proxy's route, read before anything moves: the real run's preflight and `rollout --dry-run` ask the same
// way (GET /admin/route only: nothing is set, no lease is taken), and a proxy that does not answer is a
// preflight failure for both.
import { CliError, EXIT } from '../core/exit.js';
import { AdminCallError, AdminClient, tokenRefusal, type RouteAnswer } from './admin-client.js';
import type { ProxyRoute } from './promoted.js';
import { parseRoute, routeOwner } from '../proxy/route.js';
import { qualityMismatch } from '../proxy/admin.js';
import { heldMessage, leaseHeld } from '../proxy/route-claims.js';
import { qualityRulesKey } from '../analysis/quality.js';
import { sharedUrlMessage } from './process-order.js';
import type { Plan } from '../plan/plan.js';

/** What a proxy must serve for a rollout: its plan and models (routeOwner()), judged by its quality rules (qualityRulesKey()). */
export interface ServedPlan {
  owner: string;
  quality: string;
  /** proxy.admin.token_env, named when a proxy refuses the token. */
  tokenEnv?: string;
  /** The plan's proxy.fallback: when true, a proxy serving without it is refused (see readRoutes). */
  fallback?: boolean;
}

export function servedPlan(plan: Plan): ServedPlan {
  return {
    owner: routeOwner(plan.name, plan.arms.blue.model, plan.arms.green.model),
    quality: qualityRulesKey(plan.analysis.quality),
    ...(plan.proxy?.admin && { tokenEnv: plan.proxy.admin.token_env }),
    ...(plan.proxy && { fallback: plan.proxy.fallback }),
  };
}

/**
 * The routes of the proxies behind `clients`, in their order; throws CliError (exit 3) if any does not answer, or
 * serves another plan or other models than `plan.owner` (routeOwner() of the rollout's plan): a wrong admin URL would
 * have this rollout judge and promote that proxy's models. Or checks answers by other quality rules: the rollout
 * would judge green on checks its plan does not ask for, and report its own as made. Or is driven by another rollout
 * run under a lease still running (another state folder, the same plan): the two would refuse each other's routes
 * and both roll back. `ownRuns`: a resumed rollout's dead runs, whose leases are its own.
 */
export async function readRoutes(clients: readonly AdminClient[], plan: ServedPlan, ownRuns: readonly string[] = []): Promise<ProxyRoute[]> {
  const { owner } = plan;
  const checks = await Promise.allSettled(clients.map(async (client) => checkedAnswer(await client.getRoute())));
  const refusedToken = (reason: unknown): reason is AdminCallError => reason instanceof AdminCallError && reason.tokenRefused;
  // A proxy that refused the token answered: said apart, so no one goes looking for a network problem.
  const refused = checks.flatMap((check, index) =>
    check.status === 'rejected' && refusedToken(check.reason) ? [`${clients[index]?.url ?? '?'} ${tokenRefusal(check.reason, plan.tokenEnv)}`] : [],
  );
  const failed = checks.flatMap((check, index) =>
    check.status === 'rejected' && !refusedToken(check.reason) ? [`${clients[index]?.url ?? '?'} ${(check.reason as Error).message}`] : [],
  );
  const problems = [
    ...(refused.length > 0
      ? [
          `${refused.length} of ${clients.length} proxies refused the admin token: ${refused.join('; ')} (set ${plan.tokenEnv ?? 'it'} to the token the proxies were started with)`,
        ]
      : []),
    ...(failed.length > 0 ? [`${failed.length} of ${clients.length} proxies did not answer: ${failed.join('; ')}`] : []),
  ];
  if (problems.length > 0) throw new CliError(`preflight: ${problems.join('; ')}`, EXIT.preflight);
  const shared = await sharedUrls(clients);
  if (shared.length > 0) throw new CliError(`preflight: ${shared.join('; ')}; nothing was moved`, EXIT.preflight);
  const twice = namedTwice(checks, clients);
  if (twice.length > 0)
    throw new CliError(
      `preflight: one proxy is listed more than once (${twice.join('; ')} answer from the same proxy process): its results would be read once per URL and judged as that many requests; list each proxy once in proxy.controller.admin_urls; nothing was moved`,
      EXIT.preflight,
    );
  // Proxies older than `serves` say nothing, and are taken at their word.
  const foreign = checks.flatMap((check, index) =>
    check.status === 'fulfilled' && check.value.serves !== undefined && check.value.serves !== owner
      ? [`${clients[index]?.url ?? '?'} serves ${check.value.serves}`]
      : [],
  );
  if (foreign.length > 0) throw new CliError(`preflight: not this plan's proxies (${owner}): ${foreign.join('; ')}; nothing was moved`, EXIT.preflight);
  // Proxies older than `quality` say nothing, and are taken at their word too.
  const otherRules = checks.flatMap((check, index) =>
    check.status === 'fulfilled' && check.value.quality !== undefined && check.value.quality !== plan.quality
      ? [`${clients[index]?.url ?? '?'}: ${qualityMismatch(check.value.quality, plan.quality)}`]
      : [],
  );
  if (otherRules.length > 0) throw new CliError(`preflight: ${otherRules.join('; ')}; nothing was moved`, EXIT.preflight);
  const held = checks.flatMap((check, index) => {
    if (check.status !== 'fulfilled') return [];
    // A lease the proxy applied as run out by its wall clock but not yet by its steady one still holds it (heldBy).
    const route = parseRoute(check.value.heldBy ?? check.value.route);
    const own = route?.controller !== undefined && ownRuns.includes(route.controller);
    return route && !own && leaseHeld(route, check.value.now) ? [`proxy ${clients[index]?.url ?? '?'}: ${heldMessage(route)}`] : [];
  });
  if (held.length > 0) throw new CliError(`preflight: ${held.join('; ')}; nothing was moved`, EXIT.preflight);
  // The proxy's own plan decides fallback, not the rollout's: a rollout whose plan promises it would otherwise send
  // green's failures to the application unshielded. The other way round (the proxy falls back, the plan does not
  // ask) only protects users more, and green's failures are judged either way.
  const unshielded = checks.flatMap((check, index) =>
    plan.fallback === true && check.status === 'fulfilled' && check.value.fallback === false ? [clients[index]?.url ?? '?'] : [],
  );
  if (unshielded.length > 0)
    throw new CliError(
      `preflight: ${unshielded.join(', ')} ${unshielded.length === 1 ? 'serves' : 'serve'} without fallback to blue (the proxy's plan has proxy.fallback: false), but this plan's proxy.fallback is true: green's failures would reach the application; restart the proxy on this plan, or set proxy.fallback: false here; nothing was moved`,
      EXIT.preflight,
    );
  return checks.flatMap((check, index) => (check.status === 'fulfilled' ? [{ url: clients[index]?.url ?? '?', route: check.value.route }] : []));
}

/**
 * Admin URLs where more than one proxy process answers (a load balancer over replicas), told by a few more reads of
 * the route, each on a connection of its own (a balancer may spread connections rather than requests): a feed that
 * answers again after another is no restart (process-order.ts). A read that fails here is no answer to judge by.
 */
async function sharedUrls(clients: readonly AdminClient[]): Promise<string[]> {
  await Promise.all(
    clients.map(async (client) => {
      await client.lookForOtherProcesses();
    }),
  );
  return clients.flatMap((client) => {
    const feeds = client.processes.twoAnswering;
    return feeds === undefined ? [] : [sharedUrlMessage(client.url, feeds)];
  });
}

/**
 * Admin URLs answering from one proxy process (its results feed's epoch): `localhost` and `127.0.0.1`, a name and
 * its address. Each URL's reader took every result once, so the proxy's requests counted twice, the sequential
 * tests seeing twice the evidence there was. Proxies from before session 34 say no epoch on GET: not checked.
 */
function namedTwice(checks: readonly PromiseSettledResult<RouteAnswer>[], clients: readonly AdminClient[]): string[] {
  const first = new Map<string, string>();
  const twice: string[] = [];
  checks.forEach((check, index) => {
    const epoch = check.status === 'fulfilled' ? check.value.resultsEpoch : undefined;
    if (epoch === undefined) return;
    const url = clients[index]?.url ?? '?';
    const seen = first.get(epoch);
    if (seen === undefined) first.set(epoch, url);
    else twice.push(`${seen} and ${url}`);
  });
  return twice;
}

/**
 * The answer, when it holds a route. Another server at the admin URL (the proxy's own port rather than its admin
 * port, a catch-all that answers 200) would otherwise be taken for a proxy, and its answer read as a route.
 */
function checkedAnswer<T extends { route: unknown }>(answer: T): T {
  if (typeof answer !== 'object' || answer === null || parseRoute(answer.route) === undefined)
    throw new Error("answered 200 without a route: not a bluegreen proxy's admin API (is it the proxy's own port rather than proxy.admin.listen?)");
  return answer;
}

/** `rollout --dry-run`: the routes of the proxies at these admin URLs, read with clients of its own, then closed. */
export async function readRoutesOnce(urls: readonly string[], token: string, plan: ServedPlan, ownRuns: readonly string[] = []): Promise<ProxyRoute[]> {
  const clients = urls.map((url) => new AdminClient({ url, token }));
  try {
    return await readRoutes(clients, plan, ownRuns);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
