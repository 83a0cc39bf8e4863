// Carries out one request's plan: answer an error, hang, send a (possibly spoilt) body, or pace a stream.
import type { ServerResponse } from 'node:http';
import type { Completion, Dialect } from './dialect.js';
import { sendJson, sendText } from './http.js';
import type { ResponsePlan } from './outcome.js';
import type { RequestTimers } from './timers.js';
import { steadyNow, type Clock } from '../core/clock.js';

export interface Exchange {
  res: ServerResponse;
  dialect: Dialect;
  timers: RequestTimers;
  /** The simulator's clock: a stream's tokens are paced on it, as its timers are. */
  clock: Pick<Clock, 'now' | 'steadyNow'>;
  /** Sent with every answer: request id, rate-limit budget. */
  headers: Record<string, string>;
  stream: boolean;
}

/** Streams send what has accrued at most every 25 ms, so a fast model does not cost a timer per token. */
const MIN_TICK_MS = 25;

export function respond(exchange: Exchange, plan: ResponsePlan, completion: Completion): void {
  const { res, dialect, timers, headers } = exchange;
  switch (plan.fault) {
    case 'rate_limit': {
      const reply = dialect.error('rate_limit', 'Rate limit reached for requests (simulated). Please try again shortly.');
      sendJson(res, reply.status, reply.body, {
        ...headers,
        'retry-after-ms': String(plan.retryAfterMs),
        'retry-after': String(Math.max(1, Math.ceil(plan.retryAfterMs / 1000))),
      });
      return;
    }
    case 'overload': {
      const reply = dialect.error('overload', 'Overloaded (simulated). The server is currently overloaded, please try again later.');
      sendJson(res, reply.status, reply.body, headers);
      return;
    }
    case 'error': {
      const reply = dialect.error('server', 'The server had an error while processing your request (simulated).');
      timers.after(plan.latencyMs, () => sendJson(res, reply.status, reply.body, headers));
      return;
    }
    case 'timeout':
      // Never answer; the client's timeout or the simulator's close() ends the connection.
      return;
    default:
      break;
  }
  const variant = plan.badVariant;
  const answer = variant === 'empty' ? { ...completion, tokens: [] } : completion;
  if (exchange.stream) {
    streamCompletion(exchange, plan, answer, variant === 'cut');
    return;
  }
  const body = dialect.body(answer, variant === 'empty' ? undefined : variant);
  timers.after(plan.latencyMs, () => sendText(res, 200, body, headers));
}

function streamCompletion(exchange: Exchange, plan: ResponsePlan, completion: Completion, cut: boolean): void {
  const { res, dialect, timers, clock, headers } = exchange;
  const script = dialect.stream(completion);
  const tokens = completion.tokens;
  // A cut stream stops half-way through its tokens and never sends the finish frames or terminator.
  const limit = cut ? Math.floor(tokens.length / 2) : tokens.length;
  const tickMs = Math.max(MIN_TICK_MS, 1000 / plan.tokensPerSecond);
  let sent = 0;
  let firstAt = 0;

  const tick = (): void => {
    if (res.destroyed || res.writableEnded) return;
    const due = Math.min(limit, 1 + Math.floor(((steadyNow(clock) - firstAt) / 1000) * plan.tokensPerSecond));
    if (due > sent) {
      res.write(script.delta(tokens.slice(sent, due).join('')));
      sent = due;
    }
    if (sent >= limit) {
      res.end(cut ? undefined : script.closing);
      return;
    }
    timers.after(tickMs, tick);
  };

  timers.after(plan.ttftMs, () => {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    res.write(script.opening);
    firstAt = steadyNow(clock);
    tick();
  });
}
