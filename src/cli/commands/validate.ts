// `bluegreen validate PLAN`: check a plan without sending traffic; optionally preflight the upstream.
import type { Command } from 'commander';
import { describeJudgement } from '../../analysis/describe.js';
import { loadPlan } from '../../plan/load.js';
import { PlanError } from '../../plan/errors.js';
import { ARMS } from '../../plan/plan.js';
import { mirroredText, mirroredTotalText, rateBasisText, requestCostText, requestsToJudgeText, summarisePlan, type PlanSummary } from '../../plan/summary.js';
import { describeAdaptation, resolveAdaptation } from '../../upstream/adapt.js';
import { formatCount, formatDuration, formatUsd, formatWeight } from '../../core/format.js';
import { TrafficError } from '../../traffic/index.js';
import { CliError, EXIT } from '../../core/exit.js';
import type { CliContext } from '../context.js';
import { checkBeforeTraffic, missingAdminTokenWarnings, missingKeyWarnings } from '../plan-checks.js';
import { runPreflight } from '../preflight.js';
import { protectPlanSecrets } from '../secrets.js';

interface ValidateFlags {
  json?: boolean;
  checkUpstream?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a rollout plan and print what it will do; exit 0 if valid, 2 if not')
    .argument('<plan>', 'the rollout plan (YAML)')
    .option('--json', 'print the summary (or the errors) as JSON')
    .option('--check-upstream', 'also check the upstream: key present, models list answers, key accepted (exit 3 if not)')
    .addHelpText('after', '\nExamples:\n  $ bluegreen validate rollouts/demo.yaml\n  $ bluegreen validate plan.yaml --check-upstream --json\n')
    .action(async (file: string, options: ValidateFlags) => {
      try {
        await validate(file, options, ctx);
      } catch (error) {
        // --json means JSON for failures too: a CI step parses one document whatever happened.
        const failure = options.json ? jsonFailure(error) : undefined;
        if (!failure) throw error;
        ctx.stdout.write(`${JSON.stringify(failure.body, null, 2)}\n`);
        ctx.exitCode = failure.exitCode;
      }
    });
}

async function validate(file: string, options: ValidateFlags, ctx: CliContext): Promise<void> {
  const plan = loadPlan(file, ctx.cwd);
  protectPlanSecrets(ctx, plan);
  const warnings = await checkBeforeTraffic(plan);
  const summary = summarisePlan(plan);
  if (options.checkUpstream) warnings.push(...(await runPreflight(plan, ctx)).warnings);
  else warnings.push(...missingKeyWarnings(plan, ctx.env, ctx.cwd));
  warnings.push(...missingAdminTokenWarnings(plan, ctx.env));
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify({ valid: true, summary, judgement: describeJudgement(plan.analysis, plan.stages.length), warnings }, null, 2)}\n`);
  } else {
    ctx.stdout.write(renderSummary(summary, plan.arms.blue.model, plan.arms.green.model));
    ctx.stdout.write(`  ${describeJudgement(plan.analysis, plan.stages.length)}\n`);
    for (const arm of ARMS) {
      const { model, upstream } = plan.arms[arm];
      const adapted = describeAdaptation(resolveAdaptation(model, upstream.request), upstream.api);
      if (adapted) ctx.stdout.write(`  ${arm} requests: ${adapted}\n`);
    }
    for (const warning of warnings) ctx.stdout.write(`warning: ${warning}\n`);
    if (options.checkUpstream) ctx.stdout.write('upstream: ok\n');
  }
  ctx.exitCode = 0;
}

function jsonFailure(error: unknown): { body: Record<string, unknown>; exitCode: number } | undefined {
  if (error instanceof PlanError) {
    return { exitCode: EXIT.usage, body: { valid: false, errors: error.problems, omitted: error.omitted } };
  }
  if (error instanceof TrafficError) {
    return { exitCode: EXIT.usage, body: { valid: false, errors: [{ ...(error.file ? { file: error.file } : {}), message: error.message }] } };
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
    lines.push(`  estimated cost: blue ${formatUsd(summary.costUsd.blue)}, green ${formatUsd(summary.costUsd.green)} ${assuming}`);
  } else {
    lines.push(`  total ${formatDuration(summary.totalDurationMs)} if every stage passes`);
    lines.push(`  ${requestCostText(summary)} ${assuming}`);
  }
  return `${lines.join('\n')}\n`;
}
