// `bluegreen validate PLAN`: check a plan without sending traffic; optionally preflight the upstream.
import { describeJudgement } from '../../analysis/describe.js';
import { loadPlan } from '../../plan/load.js';
import { PlanError } from '../../plan/errors.js';
import { ARMS } from '../../plan/plan.js';
import {
  mirroredText,
  mirroredTotalText,
  pricedUsd,
  rateBasisText,
  requestCostText,
  requestsToJudgeText,
  summarisePlan,
  type PlanSummary,
} from '../../plan/summary.js';
import { describeAdaptation, resolveAdaptation } from '../../upstream/adapt.js';
import { formatCount, formatDuration, formatWeight } from '../../core/format.js';
import { TrafficError } from '../../traffic/errors.js';
import { CliError, EXIT, UsageError } from '../../core/exit.js';
import { terminalColumns, type CliContext } from '../context.js';
import { fittedText } from '../../report/wrap.js';
import type { ValidateFlags } from '../definitions/validate.js';
import { checkBeforeTraffic, missingAdminTokenWarnings, missingKeyWarnings } from '../plan-checks.js';
import { protectPlanSecrets } from '../secrets.js';
import type { Plan } from '../../plan/plan.js';
import { stateDir } from '../../state/index.js';
import { sendsNothingUpstream } from '../../live/upstream-free.js';

/** What --check-upstream checked: the upstream (when the rollout itself sends to it), a live plan's proxies. */
interface Checked {
  upstream: boolean;
  proxies?: string[];
}

/** Runs `bluegreen validate PLAN` (its command line: definitions/validate.ts); sets ctx.exitCode. */
export async function validate(file: string, options: ValidateFlags, ctx: CliContext): Promise<void> {
  try {
    await validatePlan(file, options, ctx);
  } catch (error) {
    // --json means JSON for failures too: a CI step parses one document whatever happened.
    const failure = options.json ? jsonFailure(error) : undefined;
    if (!failure) throw error;
    ctx.stdout.write(`${JSON.stringify(failure.body, null, 2)}\n`);
    ctx.exitCode = failure.exitCode;
  }
}

/** Checks the plan and prints its summary, or throws what is wrong with it. */
async function validatePlan(file: string, options: ValidateFlags, ctx: CliContext): Promise<void> {
  const plan = loadPlan(file, ctx.cwd);
  protectPlanSecrets(ctx, plan);
  if (options.stateDir !== undefined && !options.checkUpstream)
    throw new UsageError("--state-dir is for --check-upstream (where a live plan's running proxy is found): add --check-upstream, or leave it out");
  const warnings = await checkBeforeTraffic(plan);
  const summary = summarisePlan(plan);
  const checked = options.checkUpstream ? await checkBeforeRollout(plan, ctx, stateDir(options.stateDir, ctx.env, ctx.cwd), warnings) : undefined;
  if (!options.checkUpstream) warnings.push(...missingKeyWarnings(plan, ctx.env, ctx.cwd), ...missingAdminTokenWarnings(plan, ctx.env));
  if (options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ valid: true, summary, judgement: describeJudgement(plan.analysis, plan.stages.length), warnings, ...(checked && { checked }) }, null, 2)}\n`,
    );
  } else {
    // In a terminal, long lines break between words at its width (as status's do); piped, each stays whole.
    let text = renderSummary(summary, plan.arms.blue.model, plan.arms.green.model);
    text += `  ${describeJudgement(plan.analysis, plan.stages.length)}\n`;
    for (const arm of ARMS) {
      const { model, upstream } = plan.arms[arm];
      const adapted = describeAdaptation(resolveAdaptation(model, upstream.request), upstream.api);
      if (adapted) text += `  ${arm} requests: ${adapted}\n`;
    }
    for (const warning of warnings) text += `warning: ${warning}\n`;
    if (checked) text += checkedText(checked);
    ctx.stdout.write(fittedText(text, terminalColumns(ctx.stdout)));
  }
  ctx.exitCode = 0;
}

/**
 * --check-upstream: the rollout's own checks before traffic. The upstream when the rollout sends to it; a live
 * plan's proxies as the rollout's preflight reads them (GET /admin/route only: nothing set). A live plan whose
 * rollout sends nothing itself never reaches the upstream: its proxies do, with their own keys, which this process
 * need not have. Failures throw as the rollout's do (exit 3; the admin token unset, exit 2).
 */
async function checkBeforeRollout(plan: Plan, ctx: CliContext, dir: string, warnings: string[]): Promise<Checked> {
  const upstream = !sendsNothingUpstream(plan);
  // The upstream's check (and a simulated upstream's start) loads only when asked for.
  if (upstream) warnings.push(...(await (await import('../preflight.js')).runPreflight(plan, ctx)).warnings);
  if (!plan.proxy?.admin) return { upstream };
  // Loaded only here: a plain validate need not load the live controller.
  const [{ liveTargets }, { readRoutesOnce, servedPlan }] = await Promise.all([import('../../live/controller.js'), import('../../live/routes.js')]);
  const { urls, token } = liveTargets(plan, dir, ctx.env);
  const routes = await readRoutesOnce(urls, token, servedPlan(plan));
  return { upstream, proxies: routes.map((route) => route.url) };
}

function checkedText(checked: Checked): string {
  const upstream = checked.upstream
    ? 'upstream: ok\n'
    : "upstream: not checked: a rollout of this plan sends nothing upstream itself (its proxies send the application's requests, with their own keys)\n";
  const { proxies } = checked;
  if (proxies === undefined) return upstream;
  return `${upstream}proxies: ok (${proxies.length} ${proxies.length === 1 ? 'proxy' : 'proxies'} answered, serving this plan: ${proxies.join(', ')})\n`;
}

function jsonFailure(error: unknown): { body: Record<string, unknown>; exitCode: number } | undefined {
  if (error instanceof PlanError) {
    return { exitCode: EXIT.usage, body: { valid: false, errors: error.problems, omitted: error.omitted } };
  }
  if (error instanceof TrafficError) {
    return { exitCode: EXIT.usage, body: { valid: false, errors: [error.problem ?? { ...(error.file ? { file: error.file } : {}), message: error.message }] } };
  }
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, body: { valid: error.exitCode !== EXIT.usage, errors: [{ message: error.message }] } };
  }
  return undefined;
}

export function renderSummary(summary: PlanSummary, blueModel: string, greenModel: string): string {
  const lines = [`plan ${summary.name}: valid`, `  blue ${blueModel} -> green ${greenModel}`];
  const basis = rateBasisText(summary);
  if (basis) lines.push(`  ${basis}`);
  // A live plan's stages are judged on the application's requests: say how many each stage needs.
  const live = summary.traffic.basis !== 'generated';
  const counts = 'requests blue/green';
  lines.push(
    `  stage  green   duration${summary.requests ? `  ${counts.padEnd(live ? 20 : 0)}` : ''}${live ? `  green reaches min_requests (${summary.minRequests}) after` : ''}`.trimEnd(),
  );
  for (const stage of summary.stages) {
    const requests = stage.requests ? `${formatCount(stage.requests.blue)}/${formatCount(stage.requests.green)}${mirroredText(stage.mirrored)}` : undefined;
    lines.push(
      `  ${String(stage.index + 1).padStart(5)}  ${formatWeight(stage.greenWeight).padStart(5)}  ${formatDuration(stage.durationMs).padStart(9)}${requests !== undefined ? `  ${requests.padEnd(live ? 20 : 0)}` : ''}${live ? `  ${requestsToJudgeText(stage)}` : ''}`.trimEnd(),
    );
  }
  const { prompt, completion } = summary.assumedTokens;
  const assuming = `(assuming ~${prompt} prompt and ~${completion} completion tokens a request)`;
  if (summary.requests) {
    lines.push(
      `  total ${formatDuration(summary.totalDurationMs)}, ${formatCount(summary.requests.blue)} blue and ${formatCount(summary.requests.green)} green requests${mirroredTotalText(summary)}`,
    );
    lines.push(`  estimated cost: blue ${pricedUsd(summary.costUsd.blue)}, green ${pricedUsd(summary.costUsd.green)} ${assuming}`);
  } else {
    lines.push(`  total ${formatDuration(summary.totalDurationMs)} if every stage passes`);
    lines.push(`  ${requestCostText(summary)} ${assuming}`);
  }
  return `${lines.join('\n')}\n`;
}
