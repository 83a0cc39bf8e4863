// How a path the operator gave reads in a message: short inside the working folder, whole outside it.
import path from 'node:path';

/** "rollouts/demo.yaml" inside cwd, "/tmp" outside it (never "../.."), "." for cwd itself. */
export function shownPath(file: string, cwd: string): string {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}
