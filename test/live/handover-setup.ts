// The handover tests' setup (drain-handover, resume-handover): a proxy whose green never answers, driven by a
// rollout at 100% green, stopped (SIGTERM) while it serves one such request, and replaced at once on the same
// ports and state folder.
import { until } from '../helpers/until.js';
import { tempDir } from '../helpers/plans.js';
import { proxyPorts, liveView, ProxyProcess, writeRolloutPlan } from './helpers.js';

/**
 * Green never answers: the proxy's own timeout (the plan's upstream.timeout.request, 5 s unless the test gives a
 * shorter one) fails it.
 */
function slowGreen(requestTimeout: string | undefined) {
  return { green: 'timeout_rate: 1', fallback: false, requestTimeout };
}

export interface SlowGreen {
  stateDir: string;
  ports: { listen: number; admin: number };
  proxy: ProxyProcess;
  /** The rollout's folder: plan.yaml, one stage of 100% green far longer than a test, driving `proxy`. */
  dir: string;
  /** The proxies' upstream.timeout.request (5s if undefined). */
  requestTimeout?: string;
}

/**
 * Starts the proxy (added to `processes`, for the test's afterEach to kill) and writes the rollout's plan.
 * `requestTimeout` (5s by default) is how long the hanging request lasts: it must outlast the steps from the request
 * in flight to the proxy's stop (a poll and a signal), and whatever the test wants done before the request ends.
 */
export async function startSlowGreenProxy(processes: ProxyProcess[], requestTimeout?: string): Promise<SlowGreen> {
  const stateDir = tempDir();
  const ports = await proxyPorts();
  const proxy = new ProxyProcess(stateDir, ports, slowGreen(requestTimeout));
  processes.push(proxy);
  await proxy.start();
  // One failure is below error_rate's min_requests: it is judged, never a rollback.
  const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 1 }'], controller: 'lease: 1m', fallback: false }, [proxy.adminUrl]);
  return { stateDir, ports, proxy, dir, requestTimeout };
}

/** Waits until the rollout running in `dir` has set stage 1 on the proxy and read it. */
export async function drivenAtFullGreen({ proxy, dir }: SlowGreen): Promise<void> {
  await until(() => proxy.route()?.greenWeight === 1, 'stage 1 on the proxy');
  await until(() => liveView(dir)?.proxies[0]?.lastContactAt !== undefined, 'the rollout to read the proxy');
}

/** The requests the proxy has in flight, as its /healthz says; 0 while it does not answer. */
async function inFlight(proxy: ProxyProcess): Promise<number> {
  try {
    return ((await (await fetch(`${proxy.baseUrl.replace(/\/v1$/, '')}/healthz`)).json()) as { inFlight: number }).inFlight;
  } catch {
    return 0;
  }
}

/**
 * Sends the application's request (to green, where it hangs) and stops the proxy with SIGTERM once it is in flight;
 * resolves once the proxy says it drains it. `answer` is the application's answer, `exited` the proxy's exit code.
 */
export async function stopWhileServing({ proxy }: SlowGreen): Promise<{ answer: Promise<Response>; exited: Promise<number | null> }> {
  const answer = fetch(`${proxy.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer app-key' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await until(async () => (await inFlight(proxy)) >= 1, 'the request in flight at the proxy');
  const exited = proxy.terminate();
  await until(() => proxy.stderr.includes('letting 1 request in flight finish'), 'the proxy to drain');
  return { answer, exited };
}

/** Starts the replacement proxy on the stopped one's ports and state folder (added to `processes`). */
export async function startReplacement({ stateDir, ports, requestTimeout }: SlowGreen, processes: ProxyProcess[]): Promise<ProxyProcess> {
  const proxy = new ProxyProcess(stateDir, ports, slowGreen(requestTimeout));
  processes.push(proxy);
  await proxy.start();
  return proxy;
}

/** What the handover tests read of report.json. */
export interface HandoverReport {
  stages: { arms: { green: { requests: number; failures: number; failuresByClass: Record<string, number> } } }[];
}
