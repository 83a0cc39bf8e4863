// `npm run build` (and prepare, which `npm ci` and a first `npx bluegreen` from git run): tsc into a fresh folder
// beside dist/, then swapped in whole. tsc writes file by file, so building in place left dist/ a mix of new, old and
// missing files while it ran (a CLI started meanwhile, say during `npm test`'s build, was refused) and after a stop
// part-way (Ctrl-C during an install). Now the old dist/ serves until the new one is complete, and a stopped build
// leaves only the staging folder, which the next build removes. dist/BUILD-COMPLETE is still written last: a dist/
// from an older in-place build stopped part-way has none, and bin/bluegreen.js refuses a dist/ without it.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const building = path.join(root, '.dist-building');
const replaced = path.join(root, '.dist-replaced');
rmSync(building, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', building], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(
  path.join(building, 'BUILD-COMPLETE'),
  'tsc finished this build of dist/ whole (tools/build.js); bin/bluegreen.js runs only a dist/ that has this file\n',
);
// Two renames: dist/ is missing only between them (microseconds), never part-written. A CLI already running keeps
// the modules it has loaded; the ones it loads later come from the new build.
rmSync(replaced, { recursive: true, force: true });
try {
  renameSync(dist, replaced);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
renameSync(building, dist);
rmSync(replaced, { recursive: true, force: true });
