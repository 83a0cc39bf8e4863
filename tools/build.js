// `npm run build` (and prepare, which `npm ci` and a first `npx bluegreen` from git run): tsc into dist/, with
// dist/BUILD-COMPLETE removed first and written last. tsc writes dist/ file by file, so a build stopped part-way
// (Ctrl-C during an install) leaves some files new, some old or missing; bin/bluegreen.js refuses a dist/ without
// the marker, saying how to build it again, where it ran the mix (or died in an import with a stack trace).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const marker = path.join(root, 'dist', 'BUILD-COMPLETE');
rmSync(marker, { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
mkdirSync(path.dirname(marker), { recursive: true });
writeFileSync(marker, 'tsc finished this build of dist/ whole (tools/build.js); bin/bluegreen.js runs only a dist/ that has this file\n');
