// Writes the reports a rollout was asked for, once it has ended: JSON, JUnit, the step summary, the annotation.
import { accessSync, closeSync, constants, lstatSync, openSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Redactor } from '../../core/redact.js';
import { writeFileAtomic } from '../../state/files.js';
import { githubAnnotation } from './annotations.js';
import { renderJunit } from './junit.js';
import { appendStepSummary, renderMarkdownSummary } from './markdown.js';
import type { RolloutReport } from './report-schema.js';
import { ReportWriteError } from './write-errors.js';
import { describeFsError } from '../../core/errors.js';
import { errorCode } from '../../core/errors.js';
import { writeInPlace } from './pipe-target.js';

export interface ReportTargets {
  /** `--report-json FILE`, relative to cwd. */
  jsonFile?: string;
  /** `--junit FILE`, relative to cwd. */
  junitFile?: string;
  /** $GITHUB_STEP_SUMMARY, appended to: checked only for what it must not be (the plan, an input, the state folder). */
  stepSummary?: string;
  cwd: string;
}

export interface WriteReportsOptions extends ReportTargets {
  report: RolloutReport;
  /** Read for GITHUB_STEP_SUMMARY and GITHUB_ACTIONS only; nothing from it goes into a report. */
  env: NodeJS.ProcessEnv;
  /** Where the annotation goes: GitHub reads workflow commands from the step's stdout. */
  stdout: { write(text: string): unknown };
  /** Keys to keep out of every report (an upstream or a hook may have echoed one into a message). */
  redactor?: Redactor;
}

export interface WriteReportsResult {
  /** Absolute paths of the files written. */
  files: string[];
  stepSummary: boolean;
  annotation: boolean;
}

/**
 * Writes every report it can and then throws one ReportWriteError naming each that failed, so an
 * unwritable JUnit path does not also cost the JSON report. Files are replaced atomically (temp + rename):
 * a CI step reading them never sees half a file.
 */
export function writeReports(options: WriteReportsOptions): WriteReportsResult {
  const { env } = options;
  const redact = (text: string) => options.redactor?.text(text) ?? text;
  // Redacted as data (so JSON escaping cannot hide a key) and again as rendered text.
  const report = options.redactor?.value(options.report) ?? options.report;
  const problems: string[] = [];
  const result: WriteReportsResult = { files: [], stepSummary: false, annotation: false };
  const write = (what: string, file: string | undefined, render: () => string) => {
    if (file === undefined) return;
    const target = path.resolve(options.cwd, file);
    try {
      const destination = reportDestination(target);
      if (destination.inPlace) writeInPlace(destination.file, redact(render()));
      else writeFileAtomic(destination.file, redact(render()));
      result.files.push(target);
    } catch (error) {
      problems.push(`cannot write the ${what} to ${target}: ${describeFsError(error, target)}`);
    }
  };
  write('JSON report', options.jsonFile, () => `${JSON.stringify(report, null, 2)}\n`);
  write('JUnit report', options.junitFile, () => renderJunit(report));
  try {
    result.stepSummary = appendStepSummary(env, redact(renderMarkdownSummary(report)));
  } catch (error) {
    problems.push(error instanceof ReportWriteError ? error.message : String(error));
  }
  if (env.GITHUB_ACTIONS === 'true') {
    const line = githubAnnotation(report);
    if (line !== undefined) {
      options.stdout.write(`${redact(line)}\n`);
      result.annotation = true;
    }
  }
  if (problems.length > 0) throw new ReportWriteError(problems);
  return result;
}

/**
 * Checks before a rollout that its report files can be written (folder exists and is writable, the path is
 * not a folder, JSON and JUnit are different files), so a long rollout does not end on an unwritable path.
 * Returns the problems as sentences; empty when all is well.
 */
export function checkReportTargets(
  targets: ReportTargets,
  keep: { plan?: string; stateDir?: string; inputs?: readonly { file: string; what: string }[] } = {},
): string[] {
  const problems: string[] = [];
  const resolved: { what: string; real: string }[] = [];
  const stepSummary = targets.stepSummary?.trim() === '' ? undefined : targets.stepSummary;
  for (const [what, file, verb] of [
    ['JSON report', targets.jsonFile, 'write'],
    ['JUnit report', targets.junitFile, 'write'],
    ['step summary ($GITHUB_STEP_SUMMARY)', stepSummary, 'append'],
  ] as const) {
    if (file === undefined) continue;
    if (file.trim() === '') {
      problems.push(`the ${what} needs a file name`);
      continue;
    }
    const target = path.resolve(targets.cwd, file);
    // Compared where they really are: a symbolic link (the file's, a folder's on the way) is followed when written.
    const real = realTarget(target);
    const earlier = resolved.find((entry) => entry.real === real);
    if (earlier) {
      problems.push(`the ${earlier.what} and the ${what} would both be written to ${target}; give them different files`);
      continue;
    }
    resolved.push({ what, real });
    // A report written over the plan (or a file it reads), or into the state folder, would destroy what it reports on.
    const stateDir = keep.stateDir === undefined ? undefined : path.resolve(keep.stateDir);
    const realStateDir = stateDir === undefined ? undefined : realTarget(stateDir);
    const input = keep.inputs?.find((entry) => real === realTarget(path.resolve(entry.file)));
    const clobbers =
      keep.plan !== undefined && real === realTarget(path.resolve(keep.plan))
        ? 'that is the plan file'
        : input
          ? `that is ${input.what}`
          : stateDir !== undefined && realStateDir !== undefined && within(real, realStateDir)
            ? `that is inside the state folder ${stateDir}${realStateDir === stateDir ? '' : ` (${realStateDir})`}`
            : undefined;
    // The summary's file is GitHub's to make (no probe file in its folder), but a folder that is not there is never
    // made by anyone: found only when appending, it turned a promotion into exit 2 at the end (newuser32).
    const problem = clobbers ?? (verb === 'write' ? targetProblem(target) : folderProblem(target));
    if (problem) problems.push(`cannot ${verb} the ${what} to ${target}: ${problem}`);
  }
  return problems;
}

/**
 * Where an absolute path really is: its longest existing part with every symbolic link followed, and the rest
 * (not there yet) as written.
 */
function realTarget(target: string): string {
  const rest: string[] = [];
  let existing = target;
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...rest);
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return target;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

/** The folder itself (not there yet, so not found to be a folder) or anything under it (control/abort). */
function within(target: string, dir: string): boolean {
  const relative = path.relative(dir, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Where a report really goes. A target that is not a regular file (/dev/stdout, a named pipe) is written in
 * place: a temp file renamed over /dev/stdout would replace the device link with a file, for every process on
 * the machine, and print nothing. A symlink to a file is followed, so the rename replaces the file, not the link.
 */
function reportDestination(target: string): { file: string; inPlace: boolean } {
  try {
    if (!statSync(target).isFile()) return { file: target, inPlace: true };
    return { file: lstatSync(target).isSymbolicLink() ? realpathSync(target) : target, inPlace: false };
  } catch {
    // Not there yet: it will be created.
    return { file: target, inPlace: false };
  }
}

/**
 * The folder a file lands in: there and a folder. All an appended file needs (appendStepSummary neither makes it nor
 * probes it); the first check of a written one (targetProblem).
 */
function folderProblem(target: string): string | undefined {
  const dir = path.dirname(target);
  try {
    return statSync(dir).isDirectory() ? undefined : `${dir} is not a folder`;
  } catch (error) {
    return describeFsError(error, target);
  }
}

function targetProblem(reportTarget: string): string | undefined {
  const { file: target, inPlace } = reportDestination(reportTarget);
  if (inPlace) {
    if (statSync(target).isDirectory()) return `${target} is a folder`;
    try {
      accessSync(target, constants.W_OK);
      return undefined;
    } catch (error) {
      return describeFsError(error, target);
    }
  }
  const dir = path.dirname(target);
  const folder = folderProblem(target);
  if (folder) return folder;
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    return describeFsError(error, target);
  }
  // access() says yes to root in /proc or on some read-only mounts: creating a file there is the real test.
  const probe = path.join(dir, `.bluegreen-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (error) {
    return `no file can be created in ${dir} (${errorCode(error) === 'ENOENT' ? 'the file system refuses new files' : describeFsError(error, target)})`;
  }
  try {
    if (statSync(target).isDirectory()) return `${target} is a folder`;
  } catch {
    // Not there yet: it will be created.
  }
  return undefined;
}
