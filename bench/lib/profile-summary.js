// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file, top N.
//   node bench/lib/profile-summary.js PROFILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/lib/profile-summary.js PROFILE.cpuprofile [N]\n');
  process.exit(2);
}
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
let total = 0;
const fns = new Map();
const files = new Map();
for (const [id, us] of self) {
  total += us;
  const { callFrame } = byId.get(id);
  const where = callFrame.url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'node_modules/')
    .replace(/.*\/(dist|bench)\//, '$1/');
  const fn = `${callFrame.functionName || '(anonymous)'}  ${where || '(native)'}:${callFrame.lineNumber + 1}`;
  fns.set(fn, (fns.get(fn) ?? 0) + us);
  const f = where ? where.replace(/^(node_modules\/[^/]+).*/, '$1') : `(${callFrame.functionName || 'native'})`;
  files.set(f, (files.get(f) ?? 0) + us);
}
const show = (title, map) => {
  process.stdout.write(`\n${title} (total ${(total / 1000).toFixed(0)} ms)\n`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}\n`);
  }
};
show('self time by file', files);
show('self time by function', fns);
