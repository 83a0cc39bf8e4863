// A hand-written plan's indentation slips are named with what to change, once each (found by newuser20).
import { expect, it } from 'vitest';
import { parseYamlSource } from '../../src/plan/yaml-source.js';

const messages = (text: string) => parseYamlSource('plan.yaml', text).problems.map((problem) => `${problem.line}:${problem.col} ${problem.message}`);

it('a key indented deeper than the one above it is one problem saying so, not two in grammar terms', () => {
  expect(messages('stages:\n  - duration: 30s\n     green_weight: 0.5\n')).toEqual([
    '2:15 YAML syntax error: Nested mappings are not allowed in compact mappings: a key indented deeper than the one above it (on this line or the next), or a value holding ": " that needs quotes',
  ]);
});

it("a key indented less than its list item's keys, and keys out of line, say to check the indentation", () => {
  expect(messages('stages:\n  - duration: 30s\n   green_weight: 0.5\n')).toEqual([
    "3:1 YAML syntax error: Sequence item without - indicator: a key indented less than the one above it (a list item's keys start in the same column), or a list item without its '- '",
  ]);
  expect(messages('upstream:\n    simulate: {}\n  seed: 3\n')).toEqual([
    '3:1 YAML syntax error: All mapping items must start at the same column: check the indentation: the keys of one mapping start in the same column',
  ]);
});

it('an unclosed bracket keeps the words that name the missing bracket, with no indentation advice', () => {
  expect(messages('name: [\n')).toEqual(['2:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]']);
});

it('a line without a space after its colon, running into the key below, says so', () => {
  expect(messages('traffic:\n  rate:5\n  stream: 0.5\n')).toEqual([
    '2:3 YAML syntax error: Implicit keys need to be on a single line: a line that is not "key: value" (a space missing after its colon?) runs into the key below it, or a key is indented deeper than the one above it',
  ]);
});

it('a document nested thousands of levels deep says so, not in V8 words ("Maximum call stack size exceeded")', () => {
  const said = messages(`name: x\nstages: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(/^2:\d+ YAML syntax error: the document nests too deeply \(thousands of levels\) to read; a plan needs a few$/);
});

it('a file that is no plan (Markdown) is one syntax error, the first, as plan.md says (newuser30: README.md gave 25, quoting whole paragraphs)', () => {
  const paragraph = 'Some prose that goes on and on, the way a README does, for well over a hundred characters: on one line';
  const said = messages(`# Title\n\n\`\`\`sh\nnpm ci\n\`\`\`\n\n${paragraph}.\nIt says: this, and then: that.\n\n\`code\` and more: text\n`);
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(/^3:1 YAML syntax error: /);
});

it('a key given twice names its path and where it was first written, not the parser\'s "Map keys must be unique" (newuser32)', () => {
  const problems = (text: string) => parseYamlSource('plan.yaml', text).problems.map((p) => `${p.line}:${p.col} ${p.keyPath}: ${p.message}`);
  expect(problems('name: a\nanalysis:\n  thresholds:\n    error_rate: 0.05\n  quality: { json: true }\n  thresholds:\n    quality_fail_rate: 0.1\n')).toEqual([
    '6:3 analysis.thresholds: given twice in one mapping (first on line 3): a key appears once; merge the two into one (or delete one)',
  ]);
  expect(problems('stages:\n  - { duration: 1s, green_weight: 0.5 }\n  - { duration: 1s, duration: 2s }\n')).toEqual([
    '3:21 stages[1].duration: given twice in one mapping (first on line 3): a key appears once; merge the two into one (or delete one)',
  ]);
});
