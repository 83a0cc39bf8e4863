// An open-model HTTP client for the proxy benchmark: requests leave on a fixed schedule whatever the answers
// do (beyond MAX_IN_FLIGHT, or the client's own `maxInFlight`, they are dropped and counted), each timed to its first
// body byte and to its end, from when it left (`latencyMs`, `firstByteMs`: what the path adds, the fixed rates'
// figures) and from when it was due (`fromScheduleMs`: what an application sending on that schedule waits, the
// sustained rule's p99). A request the client gets to more than LATE_MS after its time (its own loop held: its GC, a
// busy CPU) still leaves, but is counted late, with how late: a client behind its schedule offers less than the rate
// meanwhile, so the sustained rule bounds the late share too (bench/lib/sustained-rule.js) and every round reports it.
import { Pool } from 'undici';
import { percentile, round } from './util.js';

const MAX_IN_FLIGHT = 4000;
/** Lateness past a few of the 1 ms ticks' own: the client's loop was held, not merely slow to wake. */
export const LATE_MS = 10;
/** How long a run waits, at most, for the answers still due once its last request is sent. */
const DRAIN_MS = 5000;

/**
 * `maxInFlight` lower than the default keeps a loaded machine's stalls from queueing thousands of requests in the
 * target (they would survive its scavenges into its old generation: a quiet host's memory is not that).
 * `connections` (default: as many as may be in flight) bounds the sockets: past it requests wait in the client for
 * one (`queuedInClient`), timed from when they left. Session 22: with 256 for every path, a target's hold of P ms at
 * R req/s left R x P - 256 requests waiting here, to be written only while the target drained its backlog, which
 * began at a shorter hold the higher the rate (27 ms at 9,500 req/s, 37 ms at 7,000): one cap, binding the two paths
 * of the sustained search differently. With one socket for each request in flight, none waits in the client.
 */
export function createLoadClient(origin, { maxInFlight = MAX_IN_FLIGHT, connections = maxInFlight } = {}) {
  const pool = new Pool(origin, { connections, keepAliveTimeout: 60_000 });
  // Connections opened so far: a run's new ones are its end's count less its start's.
  let opened = 0;
  pool.on('connect', () => opened++);
  return {
    /**
     * Sends `rate` req/s for `seconds`, then waits for the stragglers: until every request sent has its answer (or
     * error), or `drainMs` (5 s) has passed, a bound for a target that stopped answering. A test on a loaded machine
     * passes one past any stall, so it waits for the answers alone.
     */
    run({ path, body, rate, seconds, keepSends = false, drainMs = DRAIN_MS }) {
      const total = Math.round(rate * seconds);
      const latency = new Float64Array(total);
      const firstByte = new Float64Array(total);
      const fromSchedule = new Float64Array(total);
      // Only for a caller that asks (keepSends): the fixed rates and the search keep no more than before.
      const sentAt = new Float64Array(keepSends ? total : 0);
      let completed = 0;
      let errors = 0;
      let dropped = 0;
      let late = 0;
      let maxLateMs = 0;
      let inFlight = 0;
      let peakInFlight = 0;
      let sent = 0;
      const openedBefore = opened;
      const payload = Buffer.from(JSON.stringify(body));
      const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-client', 'content-length': String(payload.length) };
      const interval = 1000 / rate;
      const started = performance.now();
      return new Promise((resolve) => {
        let finishTimer;
        const finish = () => {
          clearTimeout(finishTimer);
          const ended = performance.now();
          const lat = latency.slice(0, completed).sort();
          const fb = firstByte.slice(0, completed).sort();
          const sinceDue = fromSchedule.slice(0, completed).sort();
          resolve({
            rate,
            offered: total,
            completed,
            errors,
            dropped,
            late,
            maxLateMs: round(maxLateMs, 1),
            peakInFlight,
            // The most requests that waited in the client for a socket at once, and the sockets open at the end.
            queuedInClient: Math.max(0, peakInFlight - connections),
            connectionsOpen: pool.stats.connected,
            // Sockets the run opened (each a handshake, an accept and a new HTTP parser for the path: CPU of its own).
            connectionsOpened: opened - openedBefore,
            achievedRate: round(completed / ((ended - started) / 1000), 0),
            latencyMs: { p50: round(percentile(lat, 50), 3), p99: round(percentile(lat, 99), 3), max: round(lat.at(-1), 3) },
            firstByteMs: { p50: round(percentile(fb, 50), 3), p99: round(percentile(fb, 99), 3) },
            fromScheduleMs: { p50: round(percentile(sinceDue, 50), 3), p99: round(percentile(sinceDue, 99), 3), max: round(sinceDue.at(-1), 3) },
            // Every answered request's times (sorted), for percentiles over several runs (bench/lib/rounds.js).
            samples: { latencyMs: lat, firstByteMs: fb, fromScheduleMs: sinceDue },
            // With keepSends, each answered request's send (epoch ms), first byte and end (ms after it), in answer
            // order, unsorted: when the slow ones were (bench/tools/first-byte-tail.js).
            ...(keepSends && {
              sends: { atMs: sentAt.slice(0, completed), firstByteMs: firstByte.slice(0, completed), latencyMs: latency.slice(0, completed) },
            }),
          });
        };
        const maybeDone = () => {
          if (sent === total && inFlight === 0) finish();
        };
        /** @param {number} dueAt when the request was due (performance.now()'s clock) */
        const fire = (dueAt) => {
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
                fromSchedule[i] = t2 - dueAt;
                if (keepSends) sentAt[i] = performance.timeOrigin + t0;
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
          const now = performance.now();
          const due = Math.min(total, Math.floor((now - started) / interval) + 1);
          while (sent < due) {
            const dueAt = started + sent * interval;
            const lateBy = now - dueAt;
            if (lateBy > LATE_MS) late++;
            maxLateMs = Math.max(maxLateMs, lateBy);
            sent++;
            fire(dueAt);
          }
          if (sent < total) setTimeout(tick, 1);
          else {
            finishTimer = setTimeout(finish, drainMs);
            maybeDone();
          }
        };
        tick();
      });
    },
    close: () => pool.close(),
  };
}
