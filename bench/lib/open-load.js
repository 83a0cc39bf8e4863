// An open-model HTTP client for the proxy benchmark: requests leave on a fixed schedule whatever the answers
// do (beyond MAX_IN_FLIGHT, or the client's own `maxInFlight`, they are dropped and counted), each timed to its first
// body byte and to its end.
import { Pool } from 'undici';
import { percentile, round } from './util.js';

const MAX_IN_FLIGHT = 4000;

/**
 * `maxInFlight` lower than the default keeps a loaded machine's stalls from queueing thousands of requests in the
 * target (they would survive its scavenges into its old generation: a quiet host's memory is not that).
 */
export function createLoadClient(origin, { maxInFlight = MAX_IN_FLIGHT } = {}) {
  const pool = new Pool(origin, { connections: 256, keepAliveTimeout: 60_000 });
  return {
    /** Sends `rate` req/s for `seconds`, then waits (at most 5 s) for the stragglers. */
    run({ path, body, rate, seconds }) {
      const total = Math.round(rate * seconds);
      const latency = new Float64Array(total);
      const firstByte = new Float64Array(total);
      let completed = 0;
      let errors = 0;
      let dropped = 0;
      let inFlight = 0;
      let peakInFlight = 0;
      let sent = 0;
      const payload = Buffer.from(JSON.stringify(body));
      const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-client', 'content-length': String(payload.length) };
      const interval = 1000 / rate;
      const started = performance.now();
      return new Promise((resolve) => {
        let finishTimer;
        const finish = () => {
          clearTimeout(finishTimer);
          const ended = performance.now();
          const lat = Array.from(latency.subarray(0, completed)).sort((a, b) => a - b);
          const fb = Array.from(firstByte.subarray(0, completed)).sort((a, b) => a - b);
          resolve({
            rate,
            offered: total,
            completed,
            errors,
            dropped,
            peakInFlight,
            achievedRate: round(completed / ((ended - started) / 1000), 0),
            latencyMs: { p50: round(percentile(lat, 50), 3), p99: round(percentile(lat, 99), 3) },
            firstByteMs: { p50: round(percentile(fb, 50), 3), p99: round(percentile(fb, 99), 3) },
          });
        };
        const maybeDone = () => {
          if (sent === total && inFlight === 0) finish();
        };
        const fire = () => {
          if (inFlight >= maxInFlight) {
            dropped++;
            return;
          }
          inFlight++;
          peakInFlight = Math.max(peakInFlight, inFlight);
          const t0 = performance.now();
          let t1 = 0;
          pool.dispatch(
            { method: 'POST', path, headers, body: payload },
            {
              onRequestStart() {},
              onResponseStart(_c, status) {
                if (status !== 200) errors++;
              },
              onResponseData() {
                if (t1 === 0) t1 = performance.now();
              },
              onResponseEnd() {
                const i = completed++;
                const t2 = performance.now();
                latency[i] = t2 - t0;
                firstByte[i] = (t1 || t2) - t0;
                inFlight--;
                maybeDone();
              },
              onResponseError() {
                errors++;
                inFlight--;
                maybeDone();
              },
            },
          );
        };
        const tick = () => {
          const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
          while (sent < due) {
            sent++;
            fire();
          }
          if (sent < total) setTimeout(tick, 1);
          else {
            finishTimer = setTimeout(finish, 5000);
            maybeDone();
          }
        };
        tick();
      });
    },
    close: () => pool.close(),
  };
}
