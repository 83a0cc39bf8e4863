// The kernel's counters of connections lost at a full listen queue (Linux: /proc/net/netstat's TcpExt, for the whole
// network namespace, so the machine's other work counts too). A connection that finds a listener's accept queue full
// has its SYN (or its handshake's last ACK) dropped: ListenOverflows and ListenDrops count it, and its client waits
// for a SYN retransmit (TCPSynRetrans), 1 s, then 3 s: a try or a round with any has requests that waited that long.
import { readFileSync } from 'node:fs';

const NAMES = /** @type {const} */ (['ListenOverflows', 'ListenDrops', 'TCPSynRetrans']);

/** @typedef {Record<(typeof NAMES)[number], number>} TcpCounts */

/** The counters now (null off Linux, or when the kernel does not have them). @returns {TcpCounts | null} */
export function tcpCounters() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const at = lines.findIndex((line) => line.startsWith('TcpExt:'));
    const names = lines[at].split(/\s+/);
    const values = lines[at + 1].split(/\s+/);
    const counts = /** @type {TcpCounts} */ ({});
    for (const name of NAMES) {
      const i = names.indexOf(name);
      if (i < 0) return null;
      counts[name] = Number(values[i]);
    }
    return counts;
  } catch {
    return null;
  }
}

/** Starts counting; the function returned gives each counter's rise since (null off Linux). */
export function watchTcp() {
  const before = tcpCounters();
  return () => {
    const after = tcpCounters();
    if (!before || !after) return null;
    return /** @type {TcpCounts} */ (Object.fromEntries(NAMES.map((name) => [name, after[name] - before[name]])));
  };
}

/** A log's account of a rise (every line has it, so a try or round that lost connections shows). @param {TcpCounts | null | undefined} rise */
export function tcpLine(rise) {
  if (!rise) return 'listen overflows n/a';
  return `listen overflows ${rise.ListenOverflows}, drops ${rise.ListenDrops}, SYN retransmits ${rise.TCPSynRetrans}`;
}

/** The rises of several runs added up (null when any is). @param {(TcpCounts | null | undefined)[]} rises */
export function tcpSum(rises) {
  if (rises.length === 0 || rises.some((r) => !r)) return null;
  return /** @type {TcpCounts} */ (Object.fromEntries(NAMES.map((name) => [name, rises.reduce((sum, r) => sum + /** @type {TcpCounts} */ (r)[name], 0)])));
}
