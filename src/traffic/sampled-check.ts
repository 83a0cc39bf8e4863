// The sampled-traffic file checked whole before any traffic (validate, --dry-run): the rollout's own errors
// (empty, no usable line) plus a count of the lines it would skip, which the rollout only warns about, and how its
// lines' sticky keys cluster (the spread of each arm's count, src/plan/judging-odds.ts).
import { createReadStream } from 'node:fs';
import { TrafficError, describeError } from './errors.js';
import { jsonlLines, MAX_LINE_BYTES, tooLongProblem } from './jsonl-lines.js';
import { parseSampledLine } from './sampled-line.js';
import { anthropicVet, droppedParamsWarning, type DroppedParams } from './anthropic-vet.js';

export interface SampledFileCheck {
  /** Lines that are a usable request. */
  usable: number;
  /** Non-blank lines that are not, and the first of them ("line 12: not JSON (...)"). */
  skipped: number;
  firstProblem?: string;
  /**
   * The chance two usable lines carry the same sticky key (user, or a conversation id: stickyKeyOf), the sum of each
   * key's share squared: 0 when no line has one. Keys past MAX_KEYS_COUNTED are taken as each line's own.
   */
  keyCollision: number;
  /** With an Anthropic arm: the parameters it has no counterpart for, and how many lines carried each. */
  dropped?: DroppedParams;
}

/** Distinct sticky keys counted: a file of millions of users must not fill memory (the collision is tiny then anyway). */
const MAX_KEYS_COUNTED = 1_000_000;

/**
 * Reads the whole file once; rejects with the rollout's TrafficError when it is missing, empty or has no usable line.
 * `anthropic`: an arm speaks Anthropic's Messages API, and lines it cannot be sent are skipped, as the rollout skips them.
 */
export async function checkSampledFile(file: string, maxTokens: number, maxLineBytes = MAX_LINE_BYTES, anthropic = false): Promise<SampledFileCheck> {
  const result: SampledFileCheck = { usable: 0, skipped: 0, keyCollision: 0, ...(anthropic && { dropped: new Map() }) };
  const vet = result.dropped && anthropicVet(result.dropped);
  const linesByKey = new Map<string, number>();
  const input = createReadStream(file);
  let lineNo = 0;
  try {
    for await (const line of jsonlLines(input, maxLineBytes)) {
      lineNo++;
      const parsed =
        'tooLong' in line
          ? { problem: tooLongProblem(maxLineBytes) }
          : parseSampledLine(lineNo === 1 ? line.text.replace(/^\uFEFF/, '') : line.text, maxTokens, vet);
      if (parsed === undefined) continue;
      if ('problem' in parsed) {
        result.skipped++;
        result.firstProblem ??= `line ${lineNo}: ${parsed.problem}`;
      } else {
        result.usable++;
        countKey(linesByKey, parsed.request.stickyKey);
      }
    }
  } catch (error) {
    throw new TrafficError(`cannot read sampled traffic file ${file}: ${describeError(error)}`, file);
  } finally {
    input.destroy();
  }
  if (result.usable === 0 && result.skipped === 0) throw new TrafficError(`sampled traffic file ${file} is empty`, file);
  if (result.usable === 0) {
    throw new TrafficError(
      `sampled traffic file ${file} has no usable request: ${result.skipped} line(s) skipped, the first at ${result.firstProblem ?? '?'} ` +
        '(expected one JSON chat-completion request body a line, with a "messages" list)',
      file,
    );
  }
  let sameKeyPairs = 0;
  for (const lines of linesByKey.values()) sameKeyPairs += lines * lines;
  result.keyCollision = sameKeyPairs / (result.usable * result.usable);
  return result;
}

function countKey(linesByKey: Map<string, number>, key: string | undefined): void {
  if (key === undefined) return;
  const lines = linesByKey.get(key);
  if (lines !== undefined) linesByKey.set(key, lines + 1);
  else if (linesByKey.size < MAX_KEYS_COUNTED) linesByKey.set(key, 1);
}

/**
 * The warning for the sampled file, worded the same wherever it is shown (validate, --dry-run, the rollout): its
 * skipped lines, and the parameters an Anthropic arm left out.
 */
export function sampledFileWarning(file: string, read: { skipped: number; firstProblem?: string; dropped?: DroppedParams }): string | undefined {
  const notes = [skippedLinesWarning(file, read.skipped, read.firstProblem), read.dropped && droppedParamsWarning(file, read.dropped)];
  const said = notes.filter((note): note is string => note !== undefined);
  return said.length > 0 ? said.join('; ') : undefined;
}

/** The rollout's warning for skipped lines, worded the same wherever it is shown. */
export function skippedLinesWarning(file: string, skipped: number, firstProblem: string | undefined): string | undefined {
  return skipped === 0 ? undefined : `${file}: ${skipped} line(s) skipped, the first at ${firstProblem ?? '?'}`;
}
