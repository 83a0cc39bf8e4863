// `npm run build` (and prepare, which `npm ci` and a first `npx bluegreen` from git run): tsc into a fresh folder
// beside dist/, the CLI bundled from its output into its bundle/ (tools/bundle-cli.js), then swapped in whole. tsc
// writes file by file, so building in place left dist/ a mix of new, old and missing files while it ran (a CLI started
// meanwhile, say during `npm test`'s build, was refused) and after a stop part-way (Ctrl-C during an install). Now the
// old dist/ serves until the new one is complete, and a stopped or failed build leaves only the staging folder, which
// the next build removes. dist/BUILD-COMPLETE is still written last: a dist/ from an older in-place build stopped
// part-way has none, and bin/bluegreen.js refuses a dist/ without it.
// One build at a time (a lock file naming its pid): two at once shared the staging folder, each removing or renaming
// it under the other's tsc, and swapped in a dist/ with the marker and a fraction of the files (review32).
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const building = path.join(root, '.dist-building');
const replaced = path.join(root, '.dist-replaced');
const lock = path.join(root, '.dist-building.lock');

/** Whether the build named in the lock still runs (a lock just created and not yet written counts as running a while). */
function holderRuns() {
  let text;
  try {
    text = readFileSync(lock, 'utf8');
  } catch {
    return false;
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs < 10_000;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Takes the lock, waiting for a build that holds it; one left by a build that died is taken over. */
function takeLock() {
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (!holderRuns()) {
      rmSync(lock, { force: true });
      continue;
    }
    if (!told) process.stderr.write(`bluegreen build: waiting for another build of this checkout to finish (${lock} names it)\n`);
    told = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

/**
 * The CLI's bundle of tsc's output (tools/bundle-cli.js), built inside the staging folder: swapped in with the rest,
 * and only a complete one gets the marker. False when it failed, said why.
 */
async function bundled() {
  try {
    // Loaded here, not at the top: a rolldown that cannot load (its native binding left out: npm ci --omit=optional)
    // is said as the bundle's failure, not a stack.
    const { bundleCli } = await import('./bundle-cli.js');
    await bundleCli(building);
    return true;
  } catch (error) {
    process.stderr.write(`bluegreen build: bundling the CLI failed (dist/ is left as it was): ${error.message}\n`);
    return false;
  }
}

takeLock();
try {
  rmSync(building, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', building], { stdio: 'inherit' });
  if (build.status !== 0) process.exitCode = build.status ?? 1;
  else if (!(await bundled())) process.exitCode = 1;
  else {
    writeFileSync(
      path.join(building, 'BUILD-COMPLETE'),
      'tsc and the CLI bundle finished this build of dist/ whole (tools/build.js); bin/bluegreen.js runs only a dist/ that has this file\n',
    );
    // Two renames: dist/ is missing only between them (microseconds), never part-written. A CLI already running keeps
    // the modules it has loaded; a chunk it loads later (hashed names) may be gone: every command loads its own at its
    // start, so only a start that overlaps a build can meet that.
    rmSync(replaced, { recursive: true, force: true });
    try {
      renameSync(dist, replaced);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    renameSync(building, dist);
    rmSync(replaced, { recursive: true, force: true });
  }
} finally {
  rmSync(lock, { force: true });
}
