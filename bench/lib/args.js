// The bench tools' positional arguments, as their usage lines name them: `node bench/tools/X.js [RATE=2000]
// [SECONDS=5] [MODE=plain|stream] ...`. One reader, so every tool refuses a mistyped figure the same way instead of
// running with NaN.

/**
 * Reads the positional arguments in the order of `defaults`' keys. A number default makes the argument a number;
 * a list of words makes it one of them (the first is the default); a string default keeps it as given. An argument
 * left out, or given as "", takes its default; the arguments after them are `rest`. A wrong one ends the process
 * with exit code 2 and a line saying which and why.
 * @template {Record<string, number | string | readonly string[]>} T
 * @param {T} defaults
 * @param {string[]} [argv] the arguments after the script's path
 * @returns {{ [K in keyof T]: T[K] extends readonly (infer W)[] ? W : T[K] extends number ? number : string } & { rest: string[] }}
 */
export function positionalArgs(defaults, argv = process.argv.slice(2)) {
  const names = Object.keys(defaults);
  /** @type {Record<string, unknown>} */
  const values = { rest: argv.slice(names.length) };
  names.forEach((name, i) => {
    const shown = name.replace(/[A-Z]/g, '_$&').toUpperCase();
    const fallback = defaults[name];
    const given = argv[i];
    const words = Array.isArray(fallback) ? /** @type {readonly string[]} */ (fallback) : undefined;
    if (given === undefined || given === '') values[name] = words ? words[0] : fallback;
    else if (words) values[name] = words.includes(given) ? given : refuse(`${shown} must be one of ${words.join(', ')}, got "${given}"`);
    else if (typeof fallback === 'number') values[name] = Number.isFinite(Number(given)) ? Number(given) : refuse(`${shown} must be a number, got "${given}"`);
    else values[name] = given;
  });
  return /** @type {any} */ (values);
}

/** @param {string} message @returns {never} */
function refuse(message) {
  process.stderr.write(`${process.argv[1] ?? 'bench'}: ${message}\n`);
  process.exit(2);
}

/**
 * Checks a script's flags before it runs: `--help` (or `-h`) prints `usage` and exits 0; an argument not in `flags`
 * exits 2 naming it, so a mistyped flag is not a whole run of the benchmark without it.
 * @param {string} usage the usage text, one line a flag
 * @param {readonly string[]} flags every flag the script takes
 * @param {string[]} [argv] the arguments after the script's path
 */
export function checkFlags(usage, flags, argv = process.argv.slice(2)) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const unknown = argv.find((arg) => !flags.includes(arg));
  if (unknown !== undefined) refuse(`unknown argument "${unknown}" (it takes ${flags.join(', ')}; --help lists them)`);
}
