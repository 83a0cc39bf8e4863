// The sampled-traffic file checked whole before any traffic (validate, --dry-run): the rollout's own errors
// (empty, no usable line) plus a count of the lines it would skip, which the rollout only warns about.
import { createReadStream } from 'node:fs';
import { TrafficError, describeError } from './errors.js';
import { jsonlLines, MAX_LINE_BYTES, tooLongProblem } from './jsonl-lines.js';
import { parseSampledLine } from './sampled-line.js';

export interface SampledFileCheck {
  /** Lines that are a usable request. */
  usable: number;
  /** Non-blank lines that are not, and the first of them ("line 12: not JSON (...)"). */
  skipped: number;
  firstProblem?: string;
}

/** Reads the whole file once; rejects with the rollout's TrafficError when it is missing, empty or has no usable line. */
export async function checkSampledFile(file: string, maxTokens: number, maxLineBytes = MAX_LINE_BYTES): Promise<SampledFileCheck> {
  const result: SampledFileCheck = { usable: 0, skipped: 0 };
  const input = createReadStream(file);
  let lineNo = 0;
  try {
    for await (const line of jsonlLines(input, maxLineBytes)) {
      lineNo++;
      const parsed =
        'tooLong' in line
          ? { problem: tooLongProblem(maxLineBytes) }
          : parseSampledLine(lineNo === 1 ? line.text.replace(/^\uFEFF/, '') : line.text, maxTokens);
      if (parsed === undefined) continue;
      if ('problem' in parsed) {
        result.skipped++;
        result.firstProblem ??= `line ${lineNo}: ${parsed.problem}`;
      } else {
        result.usable++;
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
  return result;
}

/** The rollout's warning for skipped lines, worded the same wherever it is shown. */
export function skippedLinesWarning(file: string, skipped: number, firstProblem: string | undefined): string | undefined {
  return skipped === 0 ? undefined : `${file}: ${skipped} line(s) skipped, the first at ${firstProblem ?? '?'}`;
}
