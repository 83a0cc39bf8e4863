// The event loop's delay in one benchmarked process, as a request arriving at a random moment would wait for the
// loop: loaded with --import (PROXY_NODE_ARGS / PROXY_BASE_NODE_ARGS / BARE_NODE_ARGS of bench/tools/proxy-cpu.js
// or proxy-latency.js), it samples perf_hooks.monitorEventLoopDelay (resolution 1 ms: a timer that fires each ms
// and measures how late it ran) and writes at exit to LOOP_DELAY_OUT (default /tmp/loop-delay-PID.json) the
// delay's p50, p90, p99, p99.9 and max in ms, and how many samples exceeded 1, 2 and 5 ms, counted from the server's
// first request (not the process's start-up). Node records the time from one of its timer's runs to the next, the
// 1 ms period included: an idle loop reads about 1 ms, and a request arriving then waits the excess. The timer adds
// a wake-up a millisecond, to every process measured alike; on a loaded machine the delays are mostly the scheduler's.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.LOOP_DELAY_OUT ?? `/tmp/loop-delay-${process.pid}.json`;
const histogram = monitorEventLoopDelay({ resolution: 1 });
const serverProto = /** @type {any} */ (http.Server.prototype);
const emit = serverProto.emit;
serverProto.emit = function (/** @type {string} */ type, /** @type {unknown[]} */ ...args) {
  if (type === 'request') {
    histogram.enable();
    serverProto.emit = emit;
  }
  return emit.call(this, type, ...args);
};
/** A histogram's figures are in ns. */
const ms = (/** @type {number} */ ns) => Math.round(ns / 1000) / 1000;

process.on('exit', () => {
  histogram.disable();
  const at = (/** @type {number} */ p) => ms(histogram.percentile(p));
  const over = (/** @type {number} */ limit) => {
    // percentiles() maps each recorded percentile to its value: the share above `limit` ms, as a count.
    let share = 0;
    for (const [p, value] of histogram.percentiles) if (value > limit * 1e6) share = Math.max(share, 100 - p);
    return Math.round((share / 100) * histogram.count);
  };
  const summary = {
    samples: histogram.count,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: ms(histogram.max),
    over1ms: over(1),
    over2ms: over(2),
    over5ms: over(5),
  };
  writeFileSync(out, JSON.stringify({ argv: process.argv.slice(1, 3), summary }));
});
