// Rules that span several keys (zod checks one key at a time): endpoint choice, shares, files on disk.
import { statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { describeError, TrafficError } from '../traffic/errors.js';
import { errorCode } from '../core/errors.js';
import { readPromptsFile } from '../traffic/prompts.js';
import type { PlanProblem } from './errors.js';
import { isAzureHost, isAzureV1 } from '../upstream/azure.js';
import { MAX_LEASE_MS } from '../proxy/route-lease.js';
import { isLoopback } from '../proxy/config.js';
import { formatDuration } from '../core/format.js';
import type { ParsedPlan } from './schema.js';
import { problemAt, type YamlSource } from './yaml-source.js';

export function checkPlan(plan: ParsedPlan, source: YamlSource, dir: string): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const at: At = (keyPath, message, preferKey = false) => problems.push(problemAt(source, keyPath, message, preferKey));
  checkEndpoints(plan, at);
  checkProxy(plan, at);
  checkTrafficNeeded(plan, at);
  checkTrafficSources(plan, dir, at);
  checkStages(plan, at);
  return problems;
}

/** Each arm's endpoint: base_url or simulate (not both), its API, and a key for a real one off this machine. */
function checkEndpoints(plan: ParsedPlan, at: At): void {
  const top = plan.upstream;
  if (top.base_url !== undefined && top.simulate !== undefined) {
    at(['upstream', 'simulate'], 'set either base_url or simulate, not both', true);
  }
  if (top.base_url !== undefined && urlHasCredentials(top.base_url)) at(['upstream', 'base_url'], BASE_URL_CREDENTIALS);
  for (const arm of ['blue', 'green'] as const) {
    const own = plan[arm].upstream;
    if (own?.base_url !== undefined && own.simulate !== undefined) {
      at([arm, 'upstream', 'simulate'], 'set either base_url or simulate, not both', true);
    }
    const hasEndpoint = own?.base_url ?? own?.simulate ?? top.base_url ?? top.simulate;
    if (hasEndpoint === undefined) {
      at(['upstream'], `needs base_url (a real endpoint) or simulate (the built-in simulator) for the ${arm} arm`, true);
    }
    checkArmApi(plan, arm, at);
    if (own?.base_url !== undefined && urlHasCredentials(own.base_url)) at([arm, 'upstream', 'base_url'], BASE_URL_CREDENTIALS);
    const usesReal = own?.base_url !== undefined || (own?.simulate === undefined && top.base_url !== undefined);
    const realUrl = own?.base_url ?? (own?.simulate === undefined ? top.base_url : undefined);
    // A server on this machine (Ollama, a local vLLM) usually wants no key.
    if (usesReal && !isLoopbackUrl(realUrl) && (own?.api_key_env ?? top.api_key_env) === undefined) {
      at(own?.base_url !== undefined ? [arm, 'upstream'] : ['upstream'], 'needs api_key_env: the name of the variable holding the API key', true);
    }
  }
}

/**
 * Requests go to the upstream's origin and path (src/upstream/client.ts, src/proxy/targets.ts): user:password@ was
 * dropped without a word, and a relay behind Basic auth then refused every request, read as a rejected key.
 */
const BASE_URL_CREDENTIALS =
  "must not carry credentials (user:password@): they are not sent; put the key in the variable api_key_env names (sent as the API's own key header), or a gateway's credential in upstream.headers (kept out of all output)";

function urlHasCredentials(text: string): boolean {
  try {
    const url = new URL(text);
    return url.username !== '' || url.password !== '';
  } catch {
    return false; // Said by the schema's own URL check.
  }
}

/** The proxy block: one dialect for both arms, passthrough, the lease, the poll interval, the admin URLs. */
function checkProxy(plan: ParsedPlan, at: At): void {
  // The proxy answers in blue's dialect and forwards the application's body as it came: it does not translate.
  const blueApi = armApi(plan, 'blue');
  const greenApi = armApi(plan, 'green');
  if (plan.proxy !== undefined && (blueApi === 'anthropic') !== (greenApi === 'anthropic')) {
    at(
      ['proxy'],
      `bluegreen proxy does not translate between APIs: blue speaks ${blueApi} and green ${greenApi}, and the application's requests, in blue's format, are not green's (a green failing them all, hidden by the fallback, would be rolled back for the proxy's sake). Serve both models in one dialect (an OpenAI-compatible relay in front of Claude, say), or roll this change out on generated traffic (a plan without a proxy block)`,
      true,
    );
  }

  const passthrough = plan.proxy?.passthrough;
  const blueBase = armBaseUrl(plan, 'blue');
  if (Array.isArray(passthrough) && passthrough.length > 0 && blueApi === 'azure' && blueBase !== undefined && !isAzureV1(blueBase)) {
    at(
      ['proxy', 'passthrough'],
      `lists models that cannot pass: blue's Azure upstream is reached through its deployment's path, and Azure answers every request sent there with that deployment, whatever model the body names. Leave proxy.passthrough out (other models are refused), or use base_url https://RESOURCE.openai.azure.com/openai/v1`,
      true,
    );
  }

  // A proxy refuses a longer lease (a controller that dies must not pin green for long): every stage would fail.
  const lease = plan.proxy?.controller.lease;
  if (lease !== undefined && lease > MAX_LEASE_MS) {
    at(
      ['proxy', 'controller', 'lease'],
      `must be at most ${formatDuration(MAX_LEASE_MS)}: a proxy refuses a longer lease, so every stage's route would be refused`,
    );
  }
  // The live figures reach the judge only when the rollout reads the proxies: a stage shorter than that read's
  // period ends with nothing judged, passes undecided, and `on_inconclusive: pass` goes on to promote.
  const controller = plan.proxy?.admin ? plan.proxy.controller : undefined;
  const shortest = plan.stages.reduce<{ index: number; ms: number } | undefined>(
    (best, stage, index) => (best === undefined || stage.duration < best.ms ? { index, ms: stage.duration } : best),
    undefined,
  );
  if (controller && shortest && controller.poll_interval >= shortest.ms) {
    at(
      ['proxy', 'controller', 'poll_interval'],
      `must be shorter than every stage (stage ${shortest.index + 1} lasts ${formatDuration(shortest.ms)}): the rollout reads the proxies' requests every poll_interval, so such a stage would end before any of its requests are judged, and pass undecided`,
    );
  }
  plan.proxy?.controller.admin_urls?.forEach((url, index) => {
    const problem = adminUrlProblem(url);
    if (problem !== undefined) at(['proxy', 'controller', 'admin_urls', index], problem);
  });
}

/** Whether the plan needs a traffic block, and stages that would leave green's errors unjudged. */
function checkTrafficNeeded(plan: ParsedPlan, at: At): void {
  if (plan.traffic === undefined) {
    // Only the live proxy runs without generated requests.
    if (plan.proxy === undefined)
      at(['traffic'], 'is required (expected object): the requests a rollout generates; only a plan with a proxy block may leave it out', true);
    // Without an admin API no rollout moves the proxy: a rollout of this plan would generate requests after all
    // (the defaults, 1 a second) and judge those, so the plan is asked to say so.
    else if (plan.proxy.admin === undefined)
      at(
        ['traffic'],
        'is required (expected object) unless the proxy block has admin: without proxy.admin no rollout moves the proxy, so a rollout of this plan would judge generated requests, not live ones. Add proxy.admin: { token_env: VAR } (docs/live.md), or a traffic block',
        true,
      );
    else if (plan.proxy.controller.generated_traffic)
      at(['proxy', 'controller', 'generated_traffic'], 'needs a traffic block: the generated requests to send beside the live ones', true);
  }
  // Green's errors judged against blue's only (the built-in guard, compare_to_blue) on stages that never send blue
  // a request: green's errors would never be judged (a rollout judging nothing else ends rolled back, nothing_judged).
  if (plan.analysis.thresholds.error_rate === undefined && plan.stages.length > 0 && plan.stages.every((stage) => stage.green_weight >= 1)) {
    at(
      ['stages'],
      "send every request to green, and the plan judges green's error rate only against blue's (no analysis.thresholds.error_rate): with no blue request to compare with, green's errors would never be judged. Set analysis.thresholds.error_rate (an absolute limit), or start with a stage below green_weight 1",
      true,
    );
  }
}

/** The generated traffic's shares and files (prompts, sampled requests) on disk. */
function checkTrafficSources(plan: ParsedPlan, dir: string, at: At): void {
  const { synthetic, sampled } = plan.traffic ?? {};
  if (synthetic && sampled) {
    const total = (synthetic.share ?? 0) + (sampled.share ?? 0);
    if (synthetic.share === undefined || sampled.share === undefined) {
      at(['traffic', synthetic.share === undefined ? 'synthetic' : 'sampled'], 'needs a share when both synthetic and sampled traffic are set', true);
    } else if (Math.abs(total - 1) > 1e-9) {
      at(['traffic', 'sampled', 'share'], `synthetic.share + sampled.share must add up to 1, found ${Number(total.toFixed(6))}`);
    }
  }
  if (typeof synthetic?.prompts === 'string' && checkFile(at, ['traffic', 'synthetic', 'prompts'], dir, synthetic.prompts)) {
    checkPromptsFile(at, ['traffic', 'synthetic', 'prompts'], path.resolve(dir, synthetic.prompts));
  }
  if (sampled && checkFile(at, ['traffic', 'sampled', 'file'], dir, sampled.file)) {
    // The traffic reader refuses it too, but only here does the error name the plan's line and key.
    const absolute = path.resolve(dir, sampled.file);
    if (sampled.share !== 0 && statSync(absolute).size === 0) at(['traffic', 'sampled', 'file'], `sampled traffic file ${absolute} is empty`);
  }
}

/** Stage durations, and a quality threshold without the quality checks it counts. */
function checkStages(plan: ParsedPlan, at: At): void {
  plan.stages.forEach((stage, index) => {
    if (stage.duration <= 0) at(['stages', index, 'duration'], 'must be longer than 0');
  });
  const quality = plan.analysis.quality;
  if (plan.analysis.thresholds.quality_fail_rate !== undefined && quality === undefined) {
    at(['analysis', 'thresholds', 'quality_fail_rate'], 'needs analysis.quality: the checks whose failures it counts', true);
  }
}

/**
 * Why an admin URL cannot be used as written. The rollout names each proxy by its URL in the journal, state,
 * reports and terminal, and appends the admin paths to it; it authenticates with the admin token as a Bearer
 * header, so credentials in the URL would be printed everywhere and sent nowhere.
 */
function adminUrlProblem(text: string): string | undefined {
  const url = new URL(text);
  if (url.username !== '' || url.password !== '') {
    return 'must not carry credentials (user:password@): the rollout authenticates with the admin token (proxy.admin.token_env) as a Bearer header, and names each proxy by its URL in the journal, the reports and the terminal';
  }
  // A bare '?' or '#' leaves URL.search and URL.hash empty, but the paths appended would still land after it.
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(text))
    return 'must not have a query string or fragment: the admin paths (/admin/route...) are appended to it';
  return undefined;
}

function isLoopbackUrl(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    return isLoopback(new URL(url).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    return false;
  }
}

type At = (keyPath: PropertyKey[], message: string, preferKey?: boolean) => void;

/** The arm's base_url as resolvePlan will choose it (undefined when it is simulated). */
function armBaseUrl(plan: ParsedPlan, arm: 'blue' | 'green'): string | undefined {
  const own = plan[arm].upstream;
  const ownEndpoint = own?.base_url !== undefined || own?.simulate !== undefined;
  return ownEndpoint ? own?.base_url : plan.upstream.base_url;
}

/** The arm's dialect as resolvePlan will choose it. */
function armApi(plan: ParsedPlan, arm: 'blue' | 'green'): string {
  const own = plan[arm].upstream;
  const baseUrl = armBaseUrl(plan, arm);
  return own?.api ?? plan.upstream.api ?? (baseUrl !== undefined && isAzureHost(baseUrl) ? 'azure' : 'openai');
}

/** Keys that only make sense for some dialects: Azure's api_version and deployment, OpenAI's token field. */
function checkArmApi(plan: ParsedPlan, arm: 'blue' | 'green', at: At): void {
  const api = armApi(plan, arm);
  const own = plan[arm].upstream;
  const ownEndpoint = own?.base_url !== undefined || own?.simulate !== undefined;
  const baseUrl = armBaseUrl(plan, arm);
  const simulated = ownEndpoint ? own?.simulate !== undefined : plan.upstream.simulate !== undefined;
  const request = plan[arm].request;
  if (api === 'azure') {
    if (simulated) at([arm, 'upstream'], 'api: azure needs a base_url (the simulator speaks openai and anthropic)', true);
    const version = own?.api_version ?? plan.upstream.api_version;
    if (baseUrl !== undefined && !isAzureV1(baseUrl) && version === undefined) {
      at(
        own?.base_url !== undefined ? [arm, 'upstream'] : ['upstream'],
        'api: azure needs api_version (e.g. 2024-10-21), or a base_url ending in /openai/v1',
        true,
      );
    }
  } else if (plan[arm].deployment !== undefined) {
    at([arm, 'deployment'], `deployment is for api: azure; the ${arm} arm uses api: ${api}`, true);
  }
  if (api === 'anthropic') {
    if (request?.reasoning_effort !== undefined) {
      at([arm, 'request', 'reasoning_effort'], 'reasoning_effort is an OpenAI parameter; for Claude set request.params.thinking', true);
    }
    if (request?.token_param === 'max_completion_tokens') {
      at([arm, 'request', 'token_param'], 'the Messages API takes max_tokens only', true);
    }
  }
}

/** Whether the file is there to read; a problem is recorded when it is not. */
function checkFile(at: At, keyPath: PropertyKey[], dir: string, file: string): boolean {
  const absolute = path.resolve(dir, file);
  let stats: Stats;
  try {
    stats = statSync(absolute);
  } catch (error) {
    // existsSync said "not found" of a symbolic link loop too; what else stat refuses (EACCES) is said as is.
    const code = errorCode(error);
    at(keyPath, code === 'ENOENT' || code === 'ENOTDIR' ? `file not found: ${absolute}` : `cannot read ${absolute}: ${describeError(error)}`);
    return false;
  }
  if (stats.isFile()) return true;
  at(keyPath, `not a file: ${absolute}`);
  return false;
}

/** The rollout refuses a prompts file with no prompt in it; so does the plan check, so validate agrees. */
function checkPromptsFile(at: At, keyPath: PropertyKey[], file: string): void {
  try {
    readPromptsFile(file);
  } catch (error) {
    at(keyPath, error instanceof TrafficError ? error.message : `cannot read ${file}: ${String(error)}`);
  }
}
