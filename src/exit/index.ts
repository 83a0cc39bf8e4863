// The exit-code contract (README, DESIGN.md) and the errors that carry a code: shared by every layer, owned by none.
export { CliError, EXIT, UsageError } from './errors.js';
export { describeExit } from './describe.js';
