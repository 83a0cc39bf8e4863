// The highest TCP port, in a module of its own: the CLI's option definitions and the proxy's listen parse use it
// without loading the plan schema (zod), which `--version` and a running proxy must not load.

/** A plan's `simulate.port` and `listen`, `sim --port` and `--listen` take ports up to it (0 picks a free one). */
export const MAX_PORT = 65_535;
