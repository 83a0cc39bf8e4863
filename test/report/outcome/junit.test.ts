import { describe, expect, it } from 'vitest';
import { buildReport, renderJunit, type RolloutReport } from '../../../src/report/outcome/index.js';
import { escapeAttr, escapeText, renderXml } from '../../../src/report/outcome/xml.js';
import { loadTestPlan, promotedSnapshot, rolledBackSnapshot } from './fixtures.js';
import { caseNamed, parseJunit, type ParsedCase } from './xml-helpers.js';

const plan = loadTestPlan();
const rolledBack = buildReport({ snapshot: rolledBackSnapshot(plan), plan, version: '1.2.3' });
const promoted = buildReport({ snapshot: promotedSnapshot(plan), plan, version: '1.2.3' });

const kind = (c: ParsedCase) => (c.failure !== undefined ? 'failure' : c.error !== undefined ? 'error' : c.skipped !== undefined ? 'skipped' : 'passed');

describe('renderJunit: rolled back at stage 3', () => {
  const xml = renderJunit(rolledBack);
  const doc = parseJunit(xml);
  const suite = doc.testsuites.testsuite[0]!;

  it('has one suite named after the plan, a case per stage and per check per stage', () => {
    expect(doc.testsuites.testsuite).toHaveLength(1);
    expect(suite['@_name']).toBe('bluegreen: gpt-4o-to-gpt-4.1');
    // 5 stages, 4 checks each (consecutive_errors, error_rate, compare_to_blue, latency_p95).
    expect(suite.testcase).toHaveLength(25);
    expect(suite.testcase.slice(0, 5).map((c) => c['@_name'])).toEqual([
      'stage 1 (10% green)',
      'stage 1 consecutive_errors',
      'stage 1 error_rate',
      'stage 1 compare_to_blue.max_error_rate_increase',
      'stage 1 latency_p95',
    ]);
  });

  it('counts tests, failures, errors and skipped right, on the suite and on testsuites', () => {
    const counts = { failure: 0, error: 0, skipped: 0, passed: 0 };
    for (const c of suite.testcase) counts[kind(c)]++;
    // stage 3 and its error_rate fail (its blue comparison is undecided: passed, with the summary saying so);
    // stages 4-5 (and their 8 checks) were not run; stage 1's green had too few requests to judge its rates
    // and p95 (3 skipped).
    expect(counts).toEqual({ failure: 2, error: 0, skipped: 13, passed: 10 });
    for (const element of [suite, doc.testsuites]) {
      expect(element['@_tests']).toBe('25');
      expect(element['@_failures']).toBe('2');
      expect(element['@_errors']).toBe('0');
      expect(element['@_skipped']).toBe('13');
      expect(Number(element['@_time'])).toBeCloseTo(rolledBack.timings.durationMs / 1000, 3);
    }
    expect(suite['@_timestamp']).toBe(rolledBack.timings.startedAt);
  });

  it('fails the stage with the breach figures in the message and the body', () => {
    const stage3 = caseNamed(suite, 'stage 3 (50% green)');
    expect(kind(stage3)).toBe('failure');
    const failure = stage3.failure as { '@_message': string; '@_type': string; '#text': string };
    expect(failure['@_message']).toBe(rolledBack.outcome.reason);
    expect(failure['@_message']).toMatch(
      /^green error_rate 31\.\d% \(at least 8\.3%, 99\.93% sure\) > 5\.0% over 48 requests in stage 3; green failures: server_error 15$/,
    );
    expect(failure['#text']).toMatch(/bounds: 0\.08\d+ to 0\.6\d+, each at confidence 0\.99933/);
    expect(failure['@_type']).toBe('error_rate');
    expect(failure['#text']).toContain('rule: error_rate');
    expect(failure['#text']).toMatch(/figure: 31\.\d% \(0\.3125\)/);
    expect(failure['#text']).toContain('limit: 5.0% (0.05)');
    expect(failure['#text']).toContain('sample: 48');
    expect(failure['#text']).toContain('green gpt-4.1: 48 requests, 15 failures (31.3%: server_error 15)');
    expect(Number(stage3['@_time'])).toBe(9.4);
  });

  it('fails the breached check with a one-line message', () => {
    const errorRate = caseNamed(suite, 'stage 3 error_rate');
    expect((errorRate.failure as { '@_message': string })['@_message']).toMatch(
      /^green error_rate 31\.\d% > 5\.0% over 48 requests \(bounds 8\.3–66\.0%, each 99\.93% sure\)$/,
    );
    const compare = caseNamed(suite, 'stage 3 compare_to_blue.max_error_rate_increase');
    expect(kind(compare)).toBe('passed');
    expect(compare['system-out']).toMatch(/: undecided$/);
    expect(kind(caseNamed(suite, 'stage 3 latency_p95'))).toBe('passed');
  });

  it('skips stages that never ran, and checks not judged', () => {
    const stage4 = caseNamed(suite, 'stage 4 (75% green)');
    expect((stage4.skipped as { '@_message': string })['@_message']).toMatch(/^not run: green error_rate/);
    expect((caseNamed(suite, 'stage 5 error_rate').skipped as { '@_message': string })['@_message']).toBe('green error_rate not judged: the stage did not run');
    expect((caseNamed(suite, 'stage 1 error_rate').skipped as { '@_message': string })['@_message']).toBe(
      'green error_rate not judged: 12 requests, 20 needed',
    );
  });

  it('passes the stages that passed, with their figures as output', () => {
    const stage1 = caseNamed(suite, 'stage 1 (10% green)');
    expect(kind(stage1)).toBe('passed');
    expect(stage1['system-out']).toContain('blue gpt-4o: 1080 requests');
    expect(Number(stage1['@_time'])).toBe(60);
  });

  it('names the plan, models and outcome in properties', () => {
    const props = Object.fromEntries(suite.properties.property.map((p) => [p['@_name'], p['@_value']]));
    expect(props).toMatchObject({
      'bluegreen.version': '1.2.3',
      'plan.hash': plan.source.hash,
      'blue.model': 'gpt-4o',
      'green.model': 'gpt-4.1',
      'outcome.phase': 'rolled_back',
      'outcome.exit_code': '10',
    });
  });
});

describe('renderJunit: other outcomes', () => {
  it('a promoted rollout has no failures and no errors', () => {
    const suite = parseJunit(renderJunit(promoted)).testsuites.testsuite[0]!;
    expect(suite['@_failures']).toBe('0');
    expect(suite['@_errors']).toBe('0');
    // Stage 1's green rates and p95 (12 requests), and stage 5's blue comparison (blue had no traffic).
    expect(suite['@_skipped']).toBe('4');
    expect(suite.testcase.filter((c) => kind(c) === 'passed')).toHaveLength(21);
  });

  it('an operator abort is an error on the stage it happened in, not a failure', () => {
    const snapshot = rolledBackSnapshot(plan);
    const stages = snapshot.stages.map((s, i) => (i === 2 ? { ...s, verdict: 'aborted' as const } : s));
    const reason = 'aborted by alice@host (pid 7); traffic is back on blue';
    const report = buildReport({ snapshot: { ...snapshot, stages, phase: 'aborted', exitCode: 4, breach: undefined, checks: [], reason }, plan, version: '1' });
    const suite = parseJunit(renderJunit(report)).testsuites.testsuite[0]!;
    const stage3 = caseNamed(suite, 'stage 3 (50% green)');
    expect(kind(stage3)).toBe('error');
    expect(stage3.error!['@_message']).toBe(reason);
    expect(stage3.error!['@_type']).toBe('aborted');
    expect(suite['@_errors']).toBe('1');
  });

  it('escapes what a plan name or reason may hold and the parser reads it back exactly', () => {
    const nasty = `a<b & "c" 'd'> | e`;
    const awkward = loadTestPlan(nasty);
    const snapshot = rolledBackSnapshot(awkward);
    const reason = `${snapshot.reason!}\nlast: upstream said <html>&nbsp;</html>\u0007`;
    const report: RolloutReport = buildReport({
      snapshot: { ...snapshot, reason, breach: { ...snapshot.breach!, message: reason } },
      plan: awkward,
      version: '1',
    });
    const suite = parseJunit(renderJunit(report)).testsuites.testsuite[0]!;
    expect(suite['@_name']).toBe(`bluegreen: ${nasty}`);
    const failure = caseNamed(suite, 'stage 3 (50% green)').failure as { '@_message': string };
    // The bell character is not allowed in XML 1.0 and is dropped; the newline survives in the attribute.
    expect(failure['@_message']).toBe(reason.replace('\u0007', ''));
  });
});

describe('xml writer', () => {
  it('escapes text and attributes', () => {
    expect(escapeText('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(escapeAttr(`"x"\n'y'\t`)).toBe('&quot;x&quot;&#10;&apos;y&apos;&#9;');
    expect(escapeText('ok\u0000\u001b\uD800!')).toBe('ok!');
  });

  it('leaves out undefined attributes and self-closes empty elements', () => {
    expect(renderXml({ name: 'a', attrs: { x: 1, y: undefined }, children: [{ name: 'b' }] })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<a x="1">\n  <b/>\n</a>\n',
    );
  });
});
