// Summarises a sampling heap profile (bench/lib/heap-sample.js): bytes allocated by function (self) and with
// what it calls (total), top N; divide by the requests served while sampling for bytes a request.
//   node bench/lib/heap-summary.js PROFILE.heapprofile [N] [REQUESTS]
import { readFileSync } from 'node:fs';

const [file, topArg, requestsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/lib/heap-summary.js PROFILE.heapprofile [N] [REQUESTS]\n');
  process.exit(2);
}
const top = Number(topArg ?? 40);
const requests = Number(requestsArg ?? 0);
const { head } = JSON.parse(readFileSync(file, 'utf8'));
const name = (frame) => {
  const where = frame.url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'node_modules/')
    .replace(/.*\/(dist|bench)\//, '$1/');
  return `${frame.functionName || '(anonymous)'}  ${where || '(native)'}:${frame.lineNumber + 1}`;
};
const self = new Map();
const total = new Map();
let all = 0;
// Returns the subtree's bytes; a function recursing into itself is counted once in its total.
function walk(node, onStack) {
  const key = name(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + node.selfSize);
  all += node.selfSize;
  const inner = new Set(onStack).add(key);
  let sum = node.selfSize;
  for (const child of node.children) sum += walk(child, inner);
  if (!onStack.has(key)) total.set(key, (total.get(key) ?? 0) + sum);
  return sum;
}
walk(head, new Set());
const show = (title, map) => {
  process.stdout.write(`\n${title} (all ${(all / 1e6).toFixed(1)} MB${requests ? `, ${(all / requests).toFixed(0)} B a request` : ''})\n`);
  for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const per = requests ? `${(bytes / requests).toFixed(0).padStart(6)} B/req  ` : '';
    process.stdout.write(`${((100 * bytes) / all).toFixed(1).padStart(5)}%  ${per}${key}\n`);
  }
};
show('allocated, self', self);
show('allocated, with callees', total);
