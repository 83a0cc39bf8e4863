// Outcome reports for CI: the JSON report (and its schema), JUnit, the Markdown step summary, GitHub
// annotations, the writer that puts them on disk, and the dry-run schedule.
export { buildReport, type BuildReportInput } from './build-report.js';
export { describeCheck } from './check-text.js';
export {
  reportSchema,
  reportJsonSchema,
  REPORT_VERSION,
  type RolloutReport,
  type StageReport,
  type ArmReport,
  type CheckReport,
  type CheckStatus,
  type OutcomeReport,
  type CostReport,
} from './report-schema.js';
export { renderJunit } from './junit.js';
export { renderMarkdownSummary, appendStepSummary } from './markdown.js';
export { githubAnnotation, escapeData, escapeProperty } from './annotations.js';
export { writeReports, checkReportTargets, type ReportTargets, type WriteReportsOptions, type WriteReportsResult } from './write.js';
export { ReportWriteError } from './write-errors.js';
export { renderSchedule } from './dry-run.js';
