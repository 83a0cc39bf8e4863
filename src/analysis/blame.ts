// What a failure-driven breach adds to its message: which failure classes lie behind it, one upstream message,
// and whether blue fails the same way (then the upstream or its key is at fault, not green's model).
import type { ArmStats } from '../metrics/types.js';
import type { FailureClass } from '../upstream/types.js';
import { oneLine } from '../core/format.js';

/** Blue fails "the same way" when its rate of green's main failure class is at least this share of green's. */
const SAME_WAY_SHARE = 0.5;
const SAMPLE_CHARS = 120;

const CHECK_HINT: Partial<Record<FailureClass, string>> = {
  auth: 'check the API key and its permissions',
  quota: 'check the account quota and billing',
  rate_limited: "check the upstream's rate limits",
  connection: 'check the upstream address and the network',
  timeout: "check the upstream's load and the request timeout",
  server_error: "check the upstream's status",
  client_abort: "check the application's own timeout against both models' latency",
};

/** "" when green has no classified failures; otherwise "; green failures: auth 12, server_error 3 (auth: "...")…". */
export function blame(green: ArmStats, blue: ArmStats): string {
  const classes = sortedClasses(green);
  const main = classes[0];
  if (!main) return '';
  const list = failureList(green);
  const sample = green.failureSamples?.[main[0]];
  const quoted = sample ? ` (${main[0]}: "${shorten(sample)}")` : '';
  return `; green failures: ${list}${quoted}${sameWay(main, green, blue)}`;
}

/** "auth 12, server_error 3": an arm's failures by class, the most frequent first; "" when none. */
export function failureList(arm: ArmStats): string {
  return sortedClasses(arm)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

function sameWay([name, count]: [FailureClass, number], green: ArmStats, blue: ArmStats): string {
  const blueCount = blue.failuresByClass[name] ?? 0;
  if (blueCount === 0 || blue.requests === 0 || green.requests === 0) return '';
  const greenRate = count / green.requests;
  const blueRate = blueCount / blue.requests;
  if (blueRate < SAME_WAY_SHARE * greenRate) return '';
  const hint = CHECK_HINT[name] ?? 'check the upstream';
  return `; blue fails the same way (${name} ${blueCount} of ${blue.requests} requests): likely the upstream or its key, not green; ${hint}`;
}

function sortedClasses(arm: ArmStats): [FailureClass, number][] {
  return (Object.entries(arm.failuresByClass) as [FailureClass, number][])
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function shorten(text: string): string {
  return oneLine(text, SAMPLE_CHARS);
}

/**
 * The upstream message a reason quotes cut short (blame's `(server_error: "green arm: 500 … (The serv…")`): its
 * failure class and the part quoted; undefined when the reason quotes none, or quotes it whole.
 */
export function cutSample(reason: string | undefined): { failure: string; start: string } | undefined {
  const match = reason === undefined ? null : /; green failures: [^;]*? \(([a-z_]+): "(.*?)…"\)/.exec(reason);
  return match ? { failure: match[1]!, start: match[2]! } : undefined;
}
