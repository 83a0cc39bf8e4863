// How a heap snapshot's objects of one constructor are reached: the shortest path from the GC roots to each (weak
// edges left out), grouped by the path's shape, most common first. For bench/lib/live-objects.js's snapshots.
// node bench/lib/retainers.js FILE.heapsnapshot [CONSTRUCTOR=IncomingMessage] [PATHS=5]
import { readFileSync } from 'node:fs';

const [file, name = 'IncomingMessage', shown = '5'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/lib/retainers.js FILE.heapsnapshot [CONSTRUCTOR] [PATHS]');
const snapshot = JSON.parse(readFileSync(file, 'utf8'));
const meta = snapshot.snapshot.meta;
const { nodes, edges, strings } = snapshot;
const nodeFields = meta.node_fields.length;
const edgeFields = meta.edge_fields.length;
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const [typeAt, nameAt, edgeCountAt] = ['type', 'name', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
const [eTypeAt, eNameAt, eToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
const count = nodes.length / nodeFields;

const firstEdge = new Uint32Array(count + 1);
for (let i = 0; i < count; i++) firstEdge[i + 1] = firstEdge[i] + nodes[i * nodeFields + edgeCountAt];

const label = (n) => `${nodeTypes[nodes[n * nodeFields + typeAt]]}:${strings[nodes[n * nodeFields + nameAt]]}`.slice(0, 60);
const edgeLabel = (e) => {
  const type = edgeTypes[edges[e + eTypeAt]];
  const v = edges[e + eNameAt];
  return type === 'element' || type === 'hidden' ? `[${type}]` : String(strings[v]);
};

// Breadth first from the root: each node's parent edge on its shortest path.
const parent = new Int32Array(count).fill(-1);
const parentEdge = new Int32Array(count).fill(-1);
const seen = new Uint8Array(count);
seen[0] = 1;
let queue = [0];
while (queue.length > 0) {
  const next = [];
  for (const n of queue) {
    for (let k = firstEdge[n]; k < firstEdge[n + 1]; k++) {
      const e = k * edgeFields;
      if (edgeTypes[edges[e + eTypeAt]] === 'weak') continue;
      const to = edges[e + eToAt] / nodeFields;
      if (seen[to]) continue;
      seen[to] = 1;
      parent[to] = n;
      parentEdge[to] = e;
      next.push(to);
    }
  }
  queue = next;
}

const groups = new Map();
let found = 0;
for (let n = 0; n < count; n++) {
  if (nodeTypes[nodes[n * nodeFields + typeAt]] !== 'object' || strings[nodes[n * nodeFields + nameAt]] !== name) continue;
  found++;
  const steps = [];
  for (let at = n; parent[at] >= 0; at = parent[at]) steps.push(`${label(parent[at])} -${edgeLabel(parentEdge[at])}->`);
  const path = steps.reverse().slice(-12).join('\n  ');
  groups.set(path, (groups.get(path) ?? 0) + 1);
}
console.log(`${found} ${name}`);
for (const [path, n] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, Number(shown))) console.log(`${n} x\n  ${path}\n`);
