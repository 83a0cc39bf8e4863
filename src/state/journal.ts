// events.jsonl parsing: one JSON event a line; a crash can tear only the line being written.
import type { RolloutEvent } from '../engine/types.js';
import { parseObject } from '../core/json.js';
import { isEpochMs } from '../core/clock.js';

export interface ParsedJournal {
  events: RolloutEvent[];
  /** Lines that did not parse, the torn last line excluded. */
  skipped: number;
  /** Whether the file ended in the middle of a line (a crash while appending). */
  torn: boolean;
}

export function parseJournal(text: string): ParsedJournal {
  const lines = text.split('\n');
  // After a complete journal the split leaves a final ''; anything else there is a torn line.
  const tail = lines.pop() ?? '';
  const events: RolloutEvent[] = [];
  let skipped = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const event = parseEvent(line);
    if (event) events.push(event);
    else skipped++;
  }
  const tornEvent = tail.trim() === '' ? undefined : parseEvent(tail);
  // A last line that parses but lacks its newline was written whole; keep it.
  if (tornEvent) events.push(tornEvent);
  return { events, skipped, torn: tail.trim() !== '' && !tornEvent };
}

function parseEvent(line: string): RolloutEvent | undefined {
  const value = parseObject(line);
  if (!value) return undefined;
  const { at, type, message } = value;
  if (!isEpochMs(at) || typeof type !== 'string' || typeof message !== 'string') return undefined;
  // The fields every reader relies on are checked; the rest is as the engine wrote it.
  return value as unknown as RolloutEvent;
}
