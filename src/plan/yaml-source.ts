// YAML parsing that keeps positions, so any key path can be turned back into file:line:col.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type ErrorCode,
  type Node,
  type Pair,
  type YAMLError,
  type YAMLMap,
} from 'yaml';
import { formatKeyPath, type PlanProblem } from './errors.js';
import { scrubCommand } from '../hooks/text.js';

export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** Parses YAML text; syntax errors come back as problems with their positions. */
export function parseYamlSource(file: string, text: string): { source: YamlSource; problems: PlanProblem[] } {
  const lineCounter = new LineCounter();
  // merge: YAML 1.1's `<<: *anchor`, which CI files use; without it `<<` was an unknown key and the merged ones missing.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const source = { file, text, doc, lineCounter };
  const problems: PlanProblem[] = [];
  // The reading stops at the first syntax error: what the parser says past it is its own confusion (a Markdown file
  // given as the plan gave 25 errors quoting whole paragraphs). Past the parser's stack (thousands of nested levels)
  // the first error is its giving up, which says why.
  const tooDeep = doc.errors.find((error) => error.message.includes('Maximum call stack size exceeded'));
  const [first] = tooDeep ? [tooDeep] : [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    const duplicate = first.code === 'DUPLICATE_KEY' ? duplicateKey(source, first.pos[0]) : undefined;
    problems.push(duplicate ?? { file, line, col, keyPath: '', message: `YAML syntax error: ${syntaxMessage(first)}` });
  }
  if (!problems.length) problems.push(...aliasProblems(source));
  return { source, problems };
}

/**
 * Aliases the library parses without a word but cannot turn into data: one naming no anchor before it (its
 * expansion throws "Unresolved alias"), and one inside the value its own anchor names (`&a { b: *a }`), which
 * expands to a circular object: a request's `params` held one, and validate ended in an internal error.
 */
function aliasProblems(source: YamlSource): PlanProblem[] {
  const problems: PlanProblem[] = [];
  visit(source.doc, {
    Alias(_key, alias, path) {
      const target = alias.resolve(source.doc);
      const message = !target
        ? `YAML alias *${alias.source} names no anchor: its anchor (&${alias.source}) must be set above it`
        : path.includes(target)
          ? `YAML alias *${alias.source} is inside the value its anchor (&${alias.source}) names, which would hold itself without end; write the value out`
          : undefined;
      if (!message) return;
      const { line, col } = source.lineCounter.linePos(alias.range?.[0] ?? 0);
      problems.push({ file: source.file, line, col, keyPath: '', message });
    },
  });
  return problems;
}

/**
 * A key written twice in one mapping, named with its path and where it was first written: the library says only "Map
 * keys must be unique", and plan.md lists `thresholds.error_rate` and `thresholds.quality_fail_rate` apart, so a plan
 * written from it gets two `thresholds:` (newuser32).
 */
function duplicateKey(source: YamlSource, offset: number): PlanProblem | undefined {
  let found: PlanProblem | undefined;
  visit(source.doc, {
    Map(_key, map, path) {
      const at = map.items.findIndex((pair) => isScalar(pair.key) && pair.key.range?.[0] === offset);
      const key = map.items[at]?.key;
      if (at < 0 || !isScalar(key)) return undefined;
      const earlier = map.items.slice(0, at).find((pair) => isScalar(pair.key) && pair.key.value === key.value);
      const name = String(key.value);
      const firstLine = isScalar(earlier?.key) ? source.lineCounter.linePos(earlier.key.range?.[0] ?? 0).line : undefined;
      const { line, col } = source.lineCounter.linePos(offset);
      found = {
        file: source.file,
        line,
        col,
        keyPath: formatKeyPath([...keysOf([...path, map]), name]),
        message: `given twice in one mapping${firstLine === undefined ? '' : ` (first on line ${firstLine})`}: a key appears once; merge the two into one (or delete one)`,
      };
      return visit.BREAK;
    },
  });
  return found;
}

/** The key path of a node from the visitor's ancestors and itself: a pair's key, or an item's place in its list. */
function keysOf(path: readonly unknown[]): PropertyKey[] {
  const keys: PropertyKey[] = [];
  path.forEach((node, i) => {
    if (isPair(node) && isScalar(node.key)) keys.push(String(node.key.value));
    else if (isSeq(node)) keys.push(node.items.indexOf(path[i + 1]));
  });
  return keys;
}

const TOO_DEEP = 'a key indented deeper than the one above it (on this line or the next), or a value holding ": " that needs quotes';

/** What to change for the slips a hand-written plan makes most, where the library's words name only its grammar. */
const INDENT_HINTS: Partial<Record<ErrorCode, string>> = {
  BAD_INDENT: 'check the indentation: the keys of one mapping start in the same column',
  TAB_AS_INDENT: 'indent with spaces',
  BLOCK_AS_IMPLICIT_KEY: TOO_DEEP,
  // Alone (no BLOCK_AS_IMPLICIT_KEY at its place), most often `rate:5` above a key: one string running into it.
  MULTILINE_IMPLICIT_KEY:
    'a line that is not "key: value" (a space missing after its colon?) runs into the key below it, or a key is indented deeper than the one above it',
};

function syntaxMessage(error: YAMLError): string {
  // The library's own words for this one name its API ("please use YAML.parseAllDocuments()").
  if (error.code === 'MULTIPLE_DOCS') return "a plan is one YAML document, and this '---' starts another";
  const what = firstLine(error.message);
  // The parser recurses per level: thousands of nested [ or { ran out of stack, said in V8's words.
  if (what.includes('Maximum call stack size exceeded')) return 'the document nests too deeply (thousands of levels) to read; a plan needs a few';
  const hint =
    error.code === 'MISSING_CHAR' && what.startsWith('Sequence item')
      ? "a key indented less than the one above it (a list item's keys start in the same column), or a list item without its '- '"
      : what.includes('end with a') // an unclosed [ or {: the library says which bracket is missing
        ? undefined
        : INDENT_HINTS[error.code];
  return hint ? `${what}: ${hint}` : what;
}

function firstLine(message: string): string {
  // The yaml library appends a code excerpt after the first line; the position already points there.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/** A map's pair for key, or the one a merge (`<<: *anchor`) brings in, so an error in merged values points at them. */
function pairIn(doc: Document.Parsed, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  const own = map.items.find((item) => isScalar(item.key) && typeof item.key.value !== 'symbol' && String(item.key.value) === key);
  if (own || depth > 10) return own;
  for (const item of map.items) {
    if (!isScalar(item.key) || typeof item.key.value !== 'symbol') continue;
    // The first source listed wins, as in the merge itself.
    const sources = isSeq(item.value) ? item.value.items : [item.value];
    for (const source of sources) {
      const merged = isAlias(source) ? source.resolve(doc) : source;
      const pair = isMap(merged) ? pairIn(doc, merged, key, depth + 1) : undefined;
      if (pair) return pair;
    }
  }
  return undefined;
}

/** The node at a key path, or the deepest existing ancestor when the path goes beyond the document. */
function nodeAt(doc: Document.Parsed, path: readonly PropertyKey[]): { node: Node | null; keyNode?: Node; complete: boolean } {
  let current: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    if (isMap(current)) {
      const pair = pairIn(doc, current, String(part));
      if (!pair) return { node: current, complete: false };
      keyNode = pair.key as Node;
      current = pair.value ?? pair.key;
    } else if (isSeq(current) && typeof part === 'number' && current.items[part] !== undefined) {
      keyNode = undefined;
      current = current.items[part];
    } else {
      return { node: (current as Node | null) ?? null, complete: false };
    }
  }
  return { node: (current as Node | null) ?? null, keyNode, complete: true };
}

export interface Located {
  line: number;
  col: number;
  /** Whether the path exists in the document (false: the position is its nearest ancestor). */
  exists: boolean;
}

/** Position of the value at path (or of its key, with preferKey), falling back to the nearest ancestor. */
export function locate(source: YamlSource, path: readonly PropertyKey[], preferKey = false): Located {
  const { node, keyNode, complete } = nodeAt(source.doc, path);
  const target = preferKey && keyNode ? keyNode : node;
  const offset = target?.range?.[0] ?? 0;
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, col, exists: complete };
}

/** Position of a key inside the map at path (for unknown keys). */
export function locateKey(source: YamlSource, path: readonly PropertyKey[], key: string): Located {
  return locate(source, [...path, key], true);
}

export function problemAt(source: YamlSource, path: readonly PropertyKey[], message: string, preferKey = false): PlanProblem {
  const { line, col } = locate(source, path, preferKey);
  return { file: source.file, line, col, keyPath: formatKeyPath(path), message };
}

/** A short rendering of what the document holds at path, for "found ..." in messages. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // A hook's webhook or exec command may carry credentials (in a URL, `curl -u`), which every hook message keeps
    // out, and a plan error goes to CI logs: the same rule, as a command quoting itself.
    const shown = scrubCommand(value, value);
    return JSON.stringify(shown.length > 40 ? `${shown.slice(0, 37)}...` : shown);
  }
  if (Array.isArray(value)) return `a list of ${value.length}`;
  // A `!!timestamp` scalar reads as a Date: quote it where a string is meant.
  if (value instanceof Date) return 'a YAML timestamp (quote it to make it a string)';
  if (typeof value === 'object') return 'a mapping';
  // What is left from YAML is a number or a boolean.
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}
