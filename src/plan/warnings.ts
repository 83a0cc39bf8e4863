// What a plan allows but is probably not what its author meant: shown by validate, --dry-run and rollout,
// never fatal.
import { needsGuard } from '../analysis/budget.js';
import type { Plan } from './plan.js';
import { greenShare } from './summary.js';
import { comparesWithBlue } from './judging-odds.js';
import { isLoopback, parseListen } from '../proxy/config.js';
import { formatDuration } from '../core/format.js';
import { oneApiParams } from './param-warnings.js';
import { roundedPercentWarnings } from './hook-percent-warnings.js';
import { hookScriptWarnings } from './hook-script-warnings.js';
import { cleartextKeyWarnings } from './cleartext-key-warnings.js';
import { shortStageWarnings } from './short-stage-warnings.js';
import { collapseRepeats, type StageRepeat } from './repeated-warnings.js';
import { backtracksWithoutBound } from '../core/answer-pattern.js';

export interface PlanWarning {
  /** Dotted key path, e.g. "stages[2].green_weight". */
  keyPath: string;
  message: string;
  /** A stage's warning that many stages may share: past a few, they are given as one (repeated-warnings.ts). */
  repeat?: StageRepeat;
}

export function formatWarning(warning: PlanWarning): string {
  return `${warning.keyPath}: ${warning.message}`;
}

/** What validate read beyond the plan: the sampled traffic file's sticky keys (checkSampledFile's keyCollision). */
export interface ReadTraffic {
  sampledKeyCollision?: number;
}

export function planWarnings(plan: Plan, read: ReadTraffic = {}): PlanWarning[] {
  return collapseRepeats([
    ...decreasingWeights(plan),
    ...sameArms(plan),
    ...unservedSimulatedModels(plan),
    ...unfailableRules(plan),
    ...unlikelyLatencyRatio(plan),
    ...shortStageWarnings(plan, read.sampledKeyCollision),
    ...idleMirrors(plan),
    ...unmovedProxy(plan),
    ...greenAlias(plan),
    ...openKeylessProxy(plan),
    ...unstreamedTtft(plan),
    ...noBlueToCompare(plan),
    ...noGreenTraffic(plan),
    ...stageEndJudging(plan),
    ...oneApiParams(plan),
    ...roundedPercentWarnings(plan),
    ...hookScriptWarnings(plan),
    ...cleartextKeyWarnings(plan),
    ...unboundedRegex(plan),
  ]);
}

/**
 * A quality.regex that V8's linear-time engine cannot run (backreferences, lookaround, counts over 16) backtracks
 * without bound, on an answer a client's prompt steers; every other pattern falls back to that engine
 * (core/answer-pattern.ts). Only the shapes that backtrack exponentially are warned of (backtracksWithoutBound): a
 * large count on one atom (\d{17}) costs time in proportion to the answer. Such a match blocks the process it runs
 * in: a proxy serves nothing meanwhile.
 */
function unboundedRegex(plan: Plan): PlanWarning[] {
  const regex = plan.analysis.quality?.regex;
  if (regex === undefined || !backtracksWithoutBound(regex)) return [];
  const message =
    "has a backreference \\1, a lookaround (?= (?<=, or a repeated group that itself repeats such as (\\w+\\s?)+, and V8's linear-time engine cannot run it (those, or a count over 16 such as {10,500}): a match may then backtrack for minutes on one long answer, and the process checking it (a proxy: every request, blue's included) answers nothing meanwhile. A pattern that engine runs goes on in linear time once a match backtracks too much (min_content_length checks a length)";
  return [{ keyPath: 'analysis.quality.regex', message }];
}

/**
 * A p95 ratio of 100 or more is a percent written as a number (150 for 150%, which the schema takes as 150 times
 * blue's); one under 1 rolls back a green as fast as blue (0.5 for "50% slower"). Both are accepted: said, not refused.
 */
function unlikelyLatencyRatio(plan: Plan): PlanWarning[] {
  const ratio = plan.analysis.compare_to_blue?.max_latency_p95_ratio;
  const keyPath = 'analysis.compare_to_blue.max_latency_p95_ratio';
  if (ratio === undefined || (ratio >= 1 && ratio < 100)) return [];
  const message =
    ratio >= 100
      ? `is ${ratio}: green rolls back only with a p95 over ${ratio} times blue's; for ${ratio}% write ${Number((ratio / 100).toPrecision(12))}`
      : `is ${ratio}, under 1: green rolls back once its p95 is shown over ${ratio} times blue's, so a green as fast as blue is rolled back; for "at most ${Number(((1 - ratio) * 100).toPrecision(12))}% slower" write ${Number((2 - ratio).toPrecision(12))}`;
  return [{ keyPath, message }];
}

/**
 * A rate rule at 1 can never be crossed: no rate is above 100%, and no green rate is 100 points above blue's. It
 * looks like a rule, judges nothing, and an error-rate one at 1 also turns off the built-in guard (green failing
 * more than blue), so a green failing every request runs every stage unless consecutive_errors stops it.
 */
function unfailableRules(plan: Plan): PlanWarning[] {
  const { thresholds, compare_to_blue: compare } = plan.analysis;
  const rules: [keyPath: string, limit: number | undefined, what: string, errors: boolean][] = [
    ['analysis.thresholds.error_rate', thresholds.error_rate, "green's error rate cannot be above 100%", true],
    ['analysis.thresholds.quality_fail_rate', thresholds.quality_fail_rate, "green's quality failure rate cannot be above 100%", false],
    [
      'analysis.compare_to_blue.max_error_rate_increase',
      compare?.max_error_rate_increase,
      "green's error rate cannot be more than 100 points above blue's",
      true,
    ],
    [
      'analysis.compare_to_blue.max_quality_fail_rate_increase',
      compare?.max_quality_fail_rate_increase,
      "green's quality failure rate cannot be more than 100 points above blue's",
      false,
    ],
  ];
  // The guard is off once either error-rate rule is set; it matters only when no error-rate rule can fail.
  const errorsJudged = rules.some(([, limit, , errors]) => errors && limit !== undefined && limit < 1);
  // consecutive_errors still stops a green that fails every request; without it such a green runs every stage and
  // ends with nothing judged (a stage of failures alone judges nothing of green).
  const ending = plan.analysis.on_unjudged === 'promote' ? 'be promoted (analysis.on_unjudged: promote)' : 'roll back only at the end, with nothing judged';
  const promoted = thresholds.consecutive_errors === undefined ? `: a green failing every request would run every stage and ${ending}` : '';
  return rules.flatMap(([keyPath, limit, what, errors]) => {
    if (limit !== 1) return [];
    const guard = errors && !errorsJudged ? `, and being set it turns off the built-in guard (green failing more than blue)${promoted}` : '';
    return [{ keyPath, message: `is 1: ${what}, so this rule can never roll back${guard}; set a real limit (such as 0.05), or leave it out` }];
  });
}

/**
 * A stage no longer than analysis.interval is judged only at its end: a green failing every request runs the
 * whole stage before it rolls back (consecutive_errors and the health check still act at once). Stages up to
 * JUDGED_SOON_MS end soon enough for that to be a rollback within seconds all the same.
 */
const JUDGED_SOON_MS = 10_000;

function stageEndJudging(plan: Plan): PlanWarning[] {
  const { interval } = plan.analysis;
  const index = plan.stages.findIndex((stage) => stage.duration <= interval && stage.duration > JUDGED_SOON_MS);
  const stage = plan.stages[index];
  if (!stage) return [];
  return [
    {
      keyPath: 'analysis.interval',
      message: `${formatDuration(interval)} is not shorter than stages[${index}] (${formatDuration(stage.duration)}): such a stage is judged only at its end, so a failing green takes its share for the whole stage; judge more often (it adds no false rollbacks)`,
    },
  ];
}

/**
 * Stages that never send green a request judge nothing about it, yet pass: the rollout would end by promoting an
 * unseen green to 100%. (A proxy's own plan may hold such stages: only a rollout reads them.)
 */
function noGreenTraffic(plan: Plan): PlanWarning[] {
  if (plan.stages.length === 0 || plan.stages.some((stage) => greenShare(plan, stage) > 0)) return [];
  return [
    {
      keyPath: 'stages',
      message: `no stage sends green a request (every green_weight is 0, and no live mirror): nothing about green is judged, yet the stages pass and the rollout ends by ${
        plan.analysis.on_unjudged === 'promote' ? 'promoting green to 100% (analysis.on_unjudged: promote)' : 'rolling back with nothing judged (exit 10)'
      }; give a stage a green_weight above 0`,
    },
  ];
}

/** A proxy block without admin: no rollout can move that proxy, so a rollout of the plan judges generated requests only. */
function unmovedProxy(plan: Plan): PlanWarning[] {
  if (plan.proxy === undefined || plan.proxy.admin) return [];
  return [
    {
      keyPath: 'proxy',
      message:
        'has no admin: `bluegreen rollout` cannot move the traffic of a proxy serving this plan (it stays on blue) and judges only the requests it generates; add admin: { token_env: VAR } for a rollout on live traffic (docs/live.md)',
    },
  ];
}

/**
 * proxy.alias naming green's own model: requests asking for green by name are then split as blue's are, and the
 * route's blue share of them (all of them outside a rollout's stages) answered by blue, where the application asked
 * for green. Accepted (an alias is any name), said.
 */
function greenAlias(plan: Plan): PlanWarning[] {
  const alias = plan.proxy?.alias;
  const green = plan.arms.green.model;
  const blue = plan.arms.blue.model;
  const aliases = alias === undefined ? [] : typeof alias === 'string' ? [alias] : alias;
  const index = aliases.indexOf(green);
  if (index < 0 || green === blue) return [];
  return [
    {
      keyPath: typeof alias === 'string' ? 'proxy.alias' : `proxy.alias[${index}]`,
      message: `names green's model (${green}): a request asking for ${green} by name is then split as blue's model is, and the share the route gives blue (all of it before the first stage and after a rollback) is answered by ${blue}, not the model the application asked for. Take it out of proxy.alias: a request for ${green} then passes through to blue's upstream untouched (the proxy says so), and the application asks for ${blue} to take part in the rollout`,
    },
  ];
}

/** proxy.listen off loopback without client keys: `bluegreen proxy` refuses to start on it (src/proxy/config.ts). */
function openKeylessProxy(plan: Plan): PlanWarning[] {
  const proxy = plan.proxy;
  if (proxy === undefined || proxy.client_keys_env !== undefined) return [];
  let host: string;
  try {
    host = parseListen(proxy.listen).host;
  } catch {
    return [];
  }
  if (isLoopback(host)) return [];
  return [
    {
      keyPath: 'proxy.listen',
      message: `${proxy.listen} is off loopback and the plan sets no proxy.client_keys_env: bluegreen proxy refuses to listen there without client keys (exit 2); set client_keys_env, or listen on 127.0.0.1`,
    },
  ];
}

const IDLE_MIRROR = 'only a live rollout (a plan with proxy.admin) mirrors requests; this plan sends none to green this way';

/** Only the proxies of a live rollout mirror requests: on generated traffic a stage's mirror does nothing. */
function idleMirrors(plan: Plan): PlanWarning[] {
  if (plan.proxy?.admin) return [];
  return plan.stages.flatMap((stage, index) =>
    (stage.mirror ?? 0) > 0
      ? [
          {
            keyPath: `stages[${index}].mirror`,
            message: IDLE_MIRROR,
            repeat: { kind: 'idle-mirror', index, field: 'mirror', message: IDLE_MIRROR },
          },
        ]
      : [],
  );
}

function decreasingWeights(plan: Plan): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  plan.stages.forEach((stage, index) => {
    const before = plan.stages[index - 1];
    if (before && stage.green_weight < before.green_weight) {
      warnings.push({
        keyPath: `stages[${index}].green_weight`,
        message: `${stage.green_weight} is lower than the stage before (${before.green_weight}): green's share goes down during the rollout`,
        repeat: {
          kind: 'decreasing-weight',
          index,
          field: 'green_weight',
          message: "each is lower than the stage before: green's share goes down during the rollout",
        },
      });
    }
  });
  return warnings;
}

function sameArms(plan: Plan): PlanWarning[] {
  const { blue, green } = plan.arms;
  if (blue.model !== green.model) return [];
  if (JSON.stringify(endpoint(blue.upstream)) !== JSON.stringify(endpoint(green.upstream))) return [];
  return [
    { keyPath: 'green.model', message: `green is the same model as blue (${green.model}) on the same upstream: the rollout would compare a model with itself` },
  ];
}

/**
 * The simulator answers a model with neither a profile of its own nor a `default` with 404 (model not found), so
 * every request of that arm fails; preflight cannot tell it from a relay that lists only some of its models. Said
 * when simulate.models lists others (a demo plan whose green was renamed), and when it lists none: `simulate: {}`,
 * which a newcomer takes for `bluegreen sim`'s built-in models, passed validate and rolled back on both arms' 404s
 * (newuser32).
 */
function unservedSimulatedModels(plan: Plan): PlanWarning[] {
  return (['blue', 'green'] as const).flatMap((arm) => {
    const { model, upstream } = plan.arms[arm];
    const sim = upstream.simulate;
    const listed = Object.keys(sim?.models ?? {});
    if (sim === undefined || sim.default !== undefined || listed.includes(model)) return [];
    const has = listed.length ? `its simulate.models lists ${listed.join(', ')}` : 'its simulate block lists no models';
    return [
      {
        keyPath: `${arm}.model`,
        message: `${model} has no profile in the simulated upstream (${has}, and it has no default): the simulator answers every ${arm} request 404 (model not found); add ${model} under simulate.models, or set simulate.default (\`default: {}\` for the default profile)`,
      },
    ];
  });
}

function endpoint(upstream: Plan['arms']['blue']['upstream']): unknown {
  return { baseUrl: upstream.baseUrl, simulate: upstream.simulate, api: upstream.api };
}

/** ttft_p95 counts streamed requests only: generated traffic that never streams leaves it undecided in every stage. */
function unstreamedTtft(plan: Plan): PlanWarning[] {
  // A live rollout judges the application's requests, which may stream whatever traffic.stream says.
  if (plan.analysis.thresholds.ttft_p95 === undefined || plan.traffic.stream > 0 || plan.proxy?.admin) return [];
  return [
    {
      keyPath: 'analysis.thresholds.ttft_p95',
      message: 'is judged over streamed requests only, and traffic.stream is 0: it will never be judged (set traffic.stream above 0)',
    },
  ];
}

/**
 * Comparisons with blue (and the built-in guard of a plan without an error-rate rule) judge green against blue's
 * requests so far: stages at 100% green before any blue traffic have none, and pass with them unjudged.
 */
function noBlueToCompare(plan: Plan): PlanWarning[] {
  const compares = comparesWithBlue(plan);
  // A live rollout's shadow stage or the proxies' blue traffic is blue's; mirrors send blue traffic too.
  if (!compares || plan.proxy?.admin || (plan.stages[0]?.green_weight ?? 0) < 1) return [];
  const blind = plan.stages.findIndex((stage) => stage.green_weight < 1);
  // With no blue stage at all and no absolute error_rate, the plan is refused (src/plan/checks.ts).
  const rules = needsGuard(plan.analysis) ? 'the built-in guard (green failing more than blue)' : 'compare_to_blue';
  const which = blind === -1 ? 'no stage sends blue any request' : `stages before stages[${blind}] send blue no request`;
  return [{ keyPath: 'stages[0].green_weight', message: `is 1 and ${which}: ${rules} has no blue figures to judge green against there; start below 1` }];
}
