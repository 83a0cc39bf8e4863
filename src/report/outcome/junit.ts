// `--junit FILE`: the rollout as a JUnit test suite, one case per stage and one per threshold check per
// stage, so GitHub/GitLab/Jenkins test views show which stage and which rule failed, with the figures.
import { checkDecimals } from '../check-value.js';
import { checkValue, stageFigures, stageTitle, statusWord } from './figures.js';
import type { CheckReport, RolloutReport, StageReport } from './report-schema.js';
import { renderXml, type XmlElement } from './xml.js';

type Result = { kind: 'passed' } | { kind: 'failure' | 'error' | 'skipped'; message: string; type?: string; body?: string };

interface Case {
  name: string;
  time: number;
  result: Result;
  out?: string;
}

export function renderJunit(report: RolloutReport): string {
  const cases = report.stages.flatMap((stage) => [stageCase(report, stage), ...stage.checks.map((check) => checkCase(report, stage, check))]);
  const count = (kind: Result['kind']) => cases.filter((c) => c.result.kind === kind).length;
  const totals = {
    tests: cases.length,
    failures: count('failure'),
    errors: count('error'),
    skipped: count('skipped'),
    time: seconds(report.timings.durationMs),
  };
  const classname = `bluegreen.${report.plan.name.replace(/[.\s]+/g, '_')}`;
  const suite: XmlElement = {
    name: 'testsuite',
    attrs: { name: `bluegreen: ${report.plan.name}`, ...totals, timestamp: report.timings.startedAt },
    children: [properties(report), ...cases.map((c) => caseElement(c, classname))],
  };
  return renderXml({ name: 'testsuites', attrs: { name: 'bluegreen', ...totals }, children: [suite] });
}

function stageCase(report: RolloutReport, stage: StageReport): Case {
  const figures = stageFigures(report, stage);
  const time = seconds(stage.durationMs ?? 0);
  const name = stageTitle(stage);
  const { outcome } = report;
  const reason = outcome.reason ?? statusWord(report).toLowerCase();
  switch (stage.verdict) {
    case 'passed':
      return { name, time, result: { kind: 'passed' }, out: figures };
    case 'failed': {
      const breach = outcome.breach;
      const message = breach?.message ?? reason;
      const body = [message, ...(breach ? breachLines(breach) : []), '', figures].join('\n');
      return { name, time, result: { kind: 'failure', message, type: breach?.rule ?? outcome.phase, body } };
    }
    case 'aborted':
      // Not green's fault (an operator, a signal, an internal error): an error, not a failure.
      return { name, time, result: { kind: 'error', message: reason, type: outcome.phase, body: `${reason}\n\n${figures}` } };
    case 'skipped':
    case 'pending':
      // A stage that never started has only zeros to show: no output then.
      if (stage.durationMs === null) return { name, time, result: { kind: 'skipped', message: `not run: ${reason}` } };
      return { name, time, result: { kind: 'skipped', message: `ended early: ${reason}` }, out: figures };
    case 'running':
      return { name, time, result: { kind: 'skipped', message: 'still running when the report was written' }, out: figures };
  }
}

function checkCase(report: RolloutReport, stage: StageReport, check: CheckReport): Case {
  const name = `stage ${stage.number} ${check.rule}`;
  switch (check.status) {
    case 'ok':
    case 'undecided':
      // Undecided is not a failure: nothing showed green beyond its limit (the summary says undecided).
      return { name, time: 0, result: { kind: 'passed' }, out: check.summary };
    case 'breach': {
      const body = [check.summary, ...breachLines(check), '', stageFigures(report, stage)].join('\n');
      return { name, time: 0, result: { kind: 'failure', message: check.summary, type: check.rule, body } };
    }
    case 'waiting':
    case 'not_run':
      return { name, time: 0, result: { kind: 'skipped', message: check.summary } };
  }
}

/** The figures as data lines: what a reader greps for in a failure body. */
function breachLines(b: Pick<CheckReport, 'rule' | 'figure' | 'limit' | 'unit' | 'sample' | 'interval'>): string[] {
  const decimals = checkDecimals(b, b.figure, b.limit, b.interval);
  const figure = b.figure === null ? '-' : `${checkValue(b, b.figure, decimals)} (${raw(b.figure)})`;
  const lines = [`rule: ${b.rule}`, `figure: ${figure}`, `limit: ${checkValue(b, b.limit, decimals)} (${raw(b.limit)})`, `sample: ${b.sample}`];
  const interval = b.interval;
  if (interval)
    lines.push(
      `bounds: ${raw(interval.lower)} to ${raw(interval.upper)}, each at confidence ${raw(interval.confidence)} (rate judged ${raw(interval.estimate)} against ${raw(interval.limit)})`,
    );
  const q = interval?.quantiles;
  if (q)
    lines.push(
      `p95 ms: green ${raw(q.green.estimate)} in ${raw(q.green.lower)} to ${raw(q.green.upper)}, blue ${raw(q.blue.estimate)} in ${raw(q.blue.lower)} to ${raw(q.blue.upper)}`,
    );
  return lines;
}

function caseElement(c: Case, classname: string): XmlElement {
  const children: XmlElement[] = [];
  const { result } = c;
  if (result.kind !== 'passed') {
    children.push({ name: result.kind, attrs: { message: result.message, type: result.type }, children: result.body ? [result.body] : [] });
  }
  if (c.out) children.push({ name: 'system-out', children: [c.out] });
  return { name: 'testcase', attrs: { name: c.name, classname, time: c.time }, children };
}

function properties(report: RolloutReport): XmlElement {
  const props: [string, string | number | null][] = [
    ['bluegreen.version', report.bluegreenVersion],
    ['plan.name', report.plan.name],
    ['plan.hash', report.plan.hash],
    ['blue.model', report.plan.blueModel],
    ['green.model', report.plan.greenModel],
    ['outcome.phase', report.outcome.phase],
    ['outcome.exit_code', report.outcome.exitCode],
    ['outcome.reason', report.outcome.reason],
  ];
  return {
    name: 'properties',
    children: props.filter(([, value]) => value !== null).map(([name, value]) => ({ name: 'property', attrs: { name, value: value ?? '' } })),
  };
}

/** The raw figure next to the formatted one, for scripts: 0.05714285714285714 -> "0.0571429". */
function raw(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** JUnit times are seconds with a decimal point; three places keep millisecond precision. */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
