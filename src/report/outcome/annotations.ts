// GitHub Actions workflow commands: a rollback becomes an `::error::` annotation on the run's summary page.
import { formatWeight } from '../../core/format.js';
import type { RolloutReport } from './report-schema.js';

/** Escapes a command's message: `%`, CR and LF, as GitHub's runner expects (it decodes them back). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value (title=, file=): also `:` and `,`, which would end the property. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * The annotation for a rollback (exit 10), or undefined for any other outcome: the exit code already fails
 * the job; the annotation says why where people look first. One line; print it to stdout.
 */
export function githubAnnotation(report: RolloutReport): string | undefined {
  if (report.outcome.phase !== 'rolled_back') return undefined;
  const stage = report.outcome.stageIndex !== null ? report.stages[report.outcome.stageIndex] : undefined;
  const where = stage ? ` in stage ${stage.number}/${report.plan.stageCount} (${formatWeight(stage.greenWeight)} green)` : '';
  const message = [
    `${report.plan.name}: rolled back from ${report.plan.greenModel} to ${report.plan.blueModel}${where}`,
    report.outcome.reason ?? 'a threshold was crossed',
  ].join('\n');
  return `::error title=${escapeProperty('bluegreen rollback')}::${escapeData(message)}`;
}
