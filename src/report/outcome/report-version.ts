// The JSON report's version, apart from its zod schema (report-schema.ts): a rollout writes it in every report, and
// importing the schema to read it constructed every report schema at each start (~25 ms of CPU).

/** Bumped when a field changes meaning or goes away; added fields do not bump it. */
export const REPORT_VERSION = 1;
