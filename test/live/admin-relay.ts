// A relay in front of one proxy's admin API: the network between a rollout and its proxy, scripted. Tests use it to
// lose an answer after the proxy took a route, to cut the proxy off after one, or to act (an operator by hand)
// just before a route reaches it.
import { createServer } from 'node:http';
import { listenForTest } from '../helpers/loopback.js';
import type { Running } from '../proxy/helpers.js';
import { putRoute } from './helpers.js';

export type RouteBody = Record<string, unknown>;

export interface RelayOptions {
  /** Runs before a PUT's route is forwarded. */
  before?: (route: RouteBody) => Promise<void>;
  /**
   * After the proxy took this route: 'lose' drops its answer, 'answer' gives it; either way nothing is answered
   * after (the proxy's network gone). Undefined: relayed as it is.
   */
  cutAfter?: (route: RouteBody) => 'lose' | 'answer' | undefined;
  /** A status to answer this route with instead of forwarding it (the proxy never sees it): a refusal on the way. */
  refuse?: (route: RouteBody) => number | undefined;
  /**
   * Loses this route without cutting the proxy off (reads and later routes still go through): 'answer' once the
   * proxy took it, 'route' before the proxy sees it.
   */
  drop?: (route: RouteBody) => 'route' | 'answer' | undefined;
  /** A status to answer this read (GET) with, by its path, instead of relaying it: a proxy whose one call fails. */
  failRead?: (path: string) => number | undefined;
  /** Sees each read's answer (GET), as the proxy gave it, before it is relayed. */
  onRead?: (answer: RouteBody) => void;
}

export interface AdminRelay {
  url: string;
  /** Answers dropped after the proxy took their route. */
  lost: number;
  /** Routes dropped before the proxy saw them. */
  swallowed: number;
  /** Reads (GET) answered. */
  reads: number;
}

export async function adminRelay(target: string, options: RelayOptions): Promise<AdminRelay> {
  let down = false;
  const relay: AdminRelay = { url: '', lost: 0, swallowed: 0, reads: 0 };
  const server = createServer((req, res) => {
    if (down) return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const route = req.method === 'PUT' ? (JSON.parse(body.toString('utf8')) as RouteBody) : undefined;
      void (async () => {
        if (route) await options.before?.(route);
        const failed = route ? undefined : options.failRead?.(req.url ?? '/');
        if (failed !== undefined) return void res.writeHead(failed, { 'content-type': 'application/json' }).end('{"error":"failed on the way"}');
        const refusal = route ? options.refuse?.(route) : undefined;
        if (refusal !== undefined) return void res.writeHead(refusal, { 'content-type': 'application/json' }).end('{"error":"refused on the way"}');
        const drop = route ? options.drop?.(route) : undefined;
        if (drop === 'route') {
          relay.swallowed++;
          return void req.socket.destroy();
        }
        const answer = await fetch(`${target}${req.url ?? '/'}`, {
          method: req.method,
          headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
          ...(route && { body }),
        });
        const text = await answer.text();
        const cut = route && !down ? options.cutAfter?.(route) : undefined;
        if (cut !== undefined) down = true;
        if (cut === 'lose' || drop === 'answer') {
          relay.lost++;
          return void req.socket.destroy();
        }
        if (!route) {
          relay.reads++;
          options.onRead?.(JSON.parse(text) as RouteBody);
        }
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      })().catch(() => req.socket.destroy());
    });
  });
  relay.url = `http://${await listenForTest(server)}`;
  return relay;
}

/**
 * A relay before `proxy` behind which an operator sets its route to blue by hand just as the promotion comes: the
 * proxy refuses the promotion (409), its route set by someone else between the rollout's two steps.
 */
export function refusingPromotion(proxy: Running): Promise<AdminRelay> {
  return adminRelay(proxy.proxy.adminUrl as string, {
    before: async (route) => {
      if (route.promotedArm === 'green') await putRoute(proxy, { greenWeight: 0, mirror: 0, reason: 'operator: blue by hand' });
    },
  });
}
