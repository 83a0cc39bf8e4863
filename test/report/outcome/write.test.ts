import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, checkReportTargets, ReportWriteError, reportSchema, writeReports } from '../../../src/report/outcome/index.js';
import { tempDir } from '../../helpers/plans.js';
import { loadTestPlan, promotedSnapshot, rolledBackSnapshot } from './fixtures.js';
import { parseJunit } from './xml-helpers.js';

const plan = loadTestPlan();
const rolledBack = buildReport({ snapshot: rolledBackSnapshot(plan), plan, version: '1' });
const promoted = buildReport({ snapshot: promotedSnapshot(plan), plan, version: '1' });

function output(): { write: (text: string) => boolean; text: () => string } {
  let text = '';
  return { write: (chunk: string) => ((text += chunk), true), text: () => text };
}

describe('writeReports', () => {
  it('writes the JSON and JUnit files (paths relative to cwd), leaving no temp file behind', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'out'));
    const stdout = output();
    const result = writeReports({ report: rolledBack, jsonFile: 'out/r.json', junitFile: 'out/r.xml', cwd, env: {}, stdout });
    expect(result).toEqual({ files: [path.join(cwd, 'out/r.json'), path.join(cwd, 'out/r.xml')], stepSummary: false, annotation: false });
    expect(readdirSync(path.join(cwd, 'out')).sort()).toEqual(['r.json', 'r.xml']);
    const json = reportSchema.parse(JSON.parse(readFileSync(path.join(cwd, 'out/r.json'), 'utf8')));
    expect(json.outcome.breach?.rule).toBe('error_rate');
    expect(parseJunit(readFileSync(path.join(cwd, 'out/r.xml'), 'utf8')).testsuites['@_failures']).toBe('2');
    // Not on GitHub Actions: no workflow command on stdout.
    expect(stdout.text()).toBe('');
  });

  it('replaces an existing report file', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'r.json'), 'old');
    writeReports({ report: promoted, jsonFile: 'r.json', cwd, env: {}, stdout: output() });
    expect(JSON.parse(readFileSync(path.join(cwd, 'r.json'), 'utf8')).outcome.phase).toBe('promoted');
  });

  it('on GitHub Actions, appends the step summary and prints the rollback annotation', () => {
    const cwd = tempDir();
    const summary = path.join(cwd, 'summary.md');
    writeFileSync(summary, 'before\n');
    const stdout = output();
    const result = writeReports({ report: rolledBack, cwd, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }, stdout });
    expect(result).toMatchObject({ files: [], stepSummary: true, annotation: true });
    expect(readFileSync(summary, 'utf8')).toMatch(/^before\n\n## bluegreen: ROLLED BACK\n/);
    expect(stdout.text()).toMatch(/^::error title=bluegreen rollback::.*\n$/);
  });

  it('prints no annotation for a promotion', () => {
    const stdout = output();
    const result = writeReports({ report: promoted, cwd: tempDir(), env: { GITHUB_ACTIONS: 'true' }, stdout });
    expect(result.annotation).toBe(false);
    expect(stdout.text()).toBe('');
  });

  it('names each file it could not write, in a sentence, after writing the others', () => {
    const cwd = tempDir();
    const missing = path.join(cwd, 'no-such-folder');
    let caught: unknown;
    try {
      writeReports({ report: rolledBack, jsonFile: 'r.json', junitFile: 'no-such-folder/r.xml', cwd, env: {}, stdout: output() });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ReportWriteError);
    const error = caught as ReportWriteError;
    expect(error.message).toBe(`cannot write the JUnit report to ${path.join(missing, 'r.xml')}: the folder ${missing} does not exist`);
    expect(error.problems).toHaveLength(1);
    // The JSON report was still written.
    expect(readdirSync(cwd)).toEqual(['r.json']);
  });

  it('says when the target is a folder', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'r.json'));
    expect(() => writeReports({ report: promoted, jsonFile: 'r.json', cwd, env: {}, stdout: output() })).toThrow(
      `cannot write the JSON report to ${path.join(cwd, 'r.json')}: ${path.join(cwd, 'r.json')} is a folder`,
    );
  });
});

describe('checkReportTargets', () => {
  it('accepts writable paths, new or existing', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'old.xml'), '');
    expect(checkReportTargets({ jsonFile: 'r.json', junitFile: 'old.xml', cwd })).toEqual([]);
    expect(checkReportTargets({ cwd })).toEqual([]);
  });

  it('finds missing folders, folders as targets and one file used twice, before any traffic', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'dir'));
    expect(checkReportTargets({ jsonFile: 'nope/r.json', junitFile: 'dir', cwd })).toEqual([
      `cannot write the JSON report to ${path.join(cwd, 'nope/r.json')}: the folder ${path.join(cwd, 'nope')} does not exist`,
      `cannot write the JUnit report to ${path.join(cwd, 'dir')}: ${path.join(cwd, 'dir')} is a folder`,
    ]);
    expect(checkReportTargets({ jsonFile: 'same', junitFile: './same', cwd })).toEqual([
      `the JSON report and the JUnit report would both be written to ${path.join(cwd, 'same')}; give them different files`,
    ]);
  });

  it('refuses to write a report over the plan or into the state folder', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, '.bluegreen'));
    writeFileSync(path.join(cwd, 'plan.yaml'), 'name: x\n');
    expect(
      checkReportTargets(
        { jsonFile: 'plan.yaml', junitFile: '.bluegreen/state.json', cwd },
        { plan: path.join(cwd, 'plan.yaml'), stateDir: path.join(cwd, '.bluegreen') },
      ),
    ).toEqual([
      `cannot write the JSON report to ${path.join(cwd, 'plan.yaml')}: that is the plan file`,
      `cannot write the JUnit report to ${path.join(cwd, '.bluegreen/state.json')}: that is inside the state folder ${path.join(cwd, '.bluegreen')}`,
    ]);
  });

  it('holds $GITHUB_STEP_SUMMARY to the same: not the plan, the state folder or a report file', () => {
    const cwd = tempDir();
    const plan = path.join(cwd, 'plan.yaml');
    const stateDir = path.join(cwd, 'state');
    expect(checkReportTargets({ stepSummary: plan, cwd }, { plan, stateDir })).toEqual([
      `cannot append the step summary ($GITHUB_STEP_SUMMARY) to ${plan}: that is the plan file`,
    ]);
    expect(checkReportTargets({ stepSummary: 'state/summary.md', cwd }, { plan, stateDir })).toEqual([
      `cannot append the step summary ($GITHUB_STEP_SUMMARY) to ${path.join(stateDir, 'summary.md')}: that is inside the state folder ${stateDir}`,
    ]);
    expect(checkReportTargets({ jsonFile: 'r.json', stepSummary: path.join(cwd, 'r.json'), cwd })).toEqual([
      `the JSON report and the step summary ($GITHUB_STEP_SUMMARY) would both be written to ${path.join(cwd, 'r.json')}; give them different files`,
    ]);
    // GitHub makes its file: one not there yet is not refused up front, but one in a folder that is not there is
    // (newuser32: nothing makes the folder, and the promoted rollout exited 2 at its end, its summary unwritten).
    expect(checkReportTargets({ stepSummary: 'summary.md', cwd }, { plan, stateDir })).toEqual([]);
    expect(checkReportTargets({ stepSummary: 'nodir/summary.md', cwd }, { plan, stateDir })).toEqual([
      `cannot append the step summary ($GITHUB_STEP_SUMMARY) to ${path.join(cwd, 'nodir/summary.md')}: the folder ${path.join(cwd, 'nodir')} does not exist`,
    ]);
    writeFileSync(path.join(cwd, 'a-file'), '');
    expect(checkReportTargets({ stepSummary: 'a-file/summary.md', cwd }, { plan, stateDir })).toEqual([
      `cannot append the step summary ($GITHUB_STEP_SUMMARY) to ${path.join(cwd, 'a-file/summary.md')}: ${path.join(cwd, 'a-file')} is not a folder`,
    ]);
    expect(checkReportTargets({ stepSummary: '  ', cwd })).toEqual([]);
  });

  it('refuses the state folder itself before it exists, and any file deeper in it', () => {
    const cwd = tempDir();
    const stateDir = path.join(cwd, 'state');
    expect(checkReportTargets({ jsonFile: 'state', junitFile: 'state/control/abort', cwd }, { stateDir })).toEqual([
      `cannot write the JSON report to ${stateDir}: that is inside the state folder ${stateDir}`,
      `cannot write the JUnit report to ${path.join(stateDir, 'control/abort')}: that is inside the state folder ${stateDir}`,
    ]);
    expect(checkReportTargets({ jsonFile: 'state.json', junitFile: 'stateful/r.xml', cwd }, { stateDir })).toEqual([
      `cannot write the JUnit report to ${path.join(cwd, 'stateful/r.xml')}: the folder ${path.join(cwd, 'stateful')} does not exist`,
    ]);
  });

  // hostile28: the check compared the paths as written, so a symbolic link (the state folder's, a folder's, the
  // report file's own) let the JSON report be renamed over state.json: `status` then read "not a bluegreen state
  // file", the rollout's record gone.
  it('refuses the plan and the state folder reached through a symbolic link too', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'real'));
    writeFileSync(path.join(cwd, 'real/state.json'), '{}');
    writeFileSync(path.join(cwd, 'plan.yaml'), 'name: x\n');
    symlinkSync('real', path.join(cwd, 'sd'));
    symlinkSync('real/state.json', path.join(cwd, 'latest.json'));
    symlinkSync('plan.yaml', path.join(cwd, 'plan-link.yaml'));
    const keep = { plan: path.join(cwd, 'plan.yaml'), stateDir: path.join(cwd, 'sd') };
    const stateDir = path.join(cwd, 'sd');
    expect(checkReportTargets({ jsonFile: 'real/state.json', junitFile: 'latest.xml', cwd }, keep)).toEqual([
      `cannot write the JSON report to ${path.join(cwd, 'real/state.json')}: that is inside the state folder ${stateDir} (${path.join(cwd, 'real')})`,
    ]);
    expect(checkReportTargets({ jsonFile: 'latest.json', cwd }, keep)).toEqual([
      `cannot write the JSON report to ${path.join(cwd, 'latest.json')}: that is inside the state folder ${stateDir} (${path.join(cwd, 'real')})`,
    ]);
    expect(checkReportTargets({ jsonFile: 'plan-link.yaml', junitFile: 'sd/new.xml', cwd }, keep)).toEqual([
      `cannot write the JSON report to ${path.join(cwd, 'plan-link.yaml')}: that is the plan file`,
      `cannot write the JUnit report to ${path.join(cwd, 'sd/new.xml')}: that is inside the state folder ${stateDir} (${path.join(cwd, 'real')})`,
    ]);
    expect(checkReportTargets({ jsonFile: 'sd/../r.json', junitFile: 'latest.json', cwd })).toEqual([]);
    expect(checkReportTargets({ jsonFile: 'real/r.json', junitFile: 'sd/r.json', cwd })).toEqual([
      `the JSON report and the JUnit report would both be written to ${path.join(cwd, 'sd/r.json')}; give them different files`,
    ]);
  });

  // hostile28: `--report-json samples/traffic.jsonl` (a slip of the tab key) replaced the plan's sampled traffic with
  // the report; the plan and the state folder were protected, the files the plan reads were not.
  it('refuses a report over a file the plan reads (its prompts, its sampled traffic), through a link too', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'samples'));
    writeFileSync(path.join(cwd, 'samples/traffic.jsonl'), '{}\n');
    writeFileSync(path.join(cwd, 'prompts.txt'), 'hi\n');
    symlinkSync('samples', path.join(cwd, 'data'));
    const inputs = [
      { file: path.join(cwd, 'prompts.txt'), what: "the plan's prompts file (traffic.synthetic.prompts)" },
      { file: path.join(cwd, 'samples/traffic.jsonl'), what: "the plan's sampled traffic (traffic.sampled.file)" },
    ];
    expect(checkReportTargets({ jsonFile: 'prompts.txt', junitFile: 'data/traffic.jsonl', cwd }, { inputs })).toEqual([
      `cannot write the JSON report to ${path.join(cwd, 'prompts.txt')}: that is the plan's prompts file (traffic.synthetic.prompts)`,
      `cannot write the JUnit report to ${path.join(cwd, 'data/traffic.jsonl')}: that is the plan's sampled traffic (traffic.sampled.file)`,
    ]);
  });

  it.runIf(process.platform === 'linux')('tries to create a file, as access() says yes to root where none can be made (/proc)', () => {
    expect(checkReportTargets({ jsonFile: '/proc/r.json', cwd: tempDir() })).toEqual([
      'cannot write the JSON report to /proc/r.json: no file can be created in /proc (the file system refuses new files)',
    ]);
    const cwd = tempDir();
    expect(checkReportTargets({ jsonFile: 'r.json', cwd })).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
