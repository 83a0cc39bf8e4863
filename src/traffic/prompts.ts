// Prompts for synthetic traffic: a file (one a line), an inline list, or a built-in default list.
import { IrregularFileError, readRegularFile } from '../core/read-regular-file.js';
import { decodeText } from '../core/text-bytes.js';
import { TrafficError, describeError } from './errors.js';

/** Used when a plan names no prompts: short, varied, like what a support assistant sees. */
export const DEFAULT_PROMPTS: readonly string[] = [
  'How do I reset my password? The reset email never arrives.',
  'I was charged twice for my subscription this month. Can you refund one of the charges?',
  'Can you explain the difference between the Basic and Pro plans in a short table?',
  'My order #48213 says delivered but I never received it. What should I do?',
  'Write a polite reply to a customer who is upset that their refund is taking two weeks.',
  'Summarise our return policy in three bullet points: 30 days, unused items, original packaging.',
  'How can I export all my data as CSV before closing my account?',
  'The mobile app crashes when I open the settings page on Android 14. Any workaround?',
  'Translate to French: "Your ticket has been escalated to our billing team."',
  'Is two-factor authentication available, and how do I turn it on?',
];

/** Prompts are kept in memory, one a line: a file far larger is not one (recorded traffic goes in traffic.sampled). */
export const MAX_PROMPTS_BYTES = 64 * 1024 * 1024;

/**
 * A prompts file's prompts. Read as a regular file of at most MAX_PROMPTS_BYTES: a larger one took 34 s and 1.1 GB
 * to end in "Cannot create a string longer than 0x1fffffe8 characters" (600 MB), or ran for minutes (3 GB).
 */
export function readPromptsFile(file: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, MAX_PROMPTS_BYTES);
  } catch (error) {
    const why =
      error instanceof IrregularFileError && error.kind === undefined
        ? `it is larger than ${MAX_PROMPTS_BYTES / (1024 * 1024)} MiB (prompts are held in memory; replay recorded requests with traffic.sampled.file, read as a stream)`
        : describeError(error);
    throw new TrafficError(`cannot read prompts file ${file}: ${why}`, file);
  }
  // Not text: a NUL would be sent inside a prompt, a Latin-1 byte as U+FFFD. Refused where it is.
  const text = decodeText(bytes);
  if (typeof text !== 'string') {
    const at = `line ${text.line}, column ${text.col}`;
    throw new TrafficError(
      text.kind === 'nul'
        ? `prompts file ${file} holds a NUL byte at ${at}: it is a binary file, not prompts one a line`
        : `prompts file ${file} is not UTF-8 (byte 0x${text.byte.toString(16).padStart(2, '0')} at ${at}); save it as UTF-8`,
      file,
    );
  }
  return parsePrompts(text, file);
}

/** Parses a prompts file's text: one prompt a line, blank lines and `#` comments skipped. */
export function parsePrompts(text: string, file: string): string[] {
  const prompts = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (prompts.length === 0) {
    throw new TrafficError(`prompts file ${file} has no prompts (one a line; blank lines and # comments are skipped)`, file);
  }
  return prompts;
}

/** The prompts a plan asks for: a file path (already absolute), an inline list, or undefined for the defaults. */
export function loadPrompts(spec: string | readonly string[] | undefined): Promise<string[]> {
  // A promise still: its callers await it, and a TrafficError thrown here rejects it.
  return new Promise((resolve) => resolve(promptsOf(spec)));
}

function promptsOf(spec: string | readonly string[] | undefined): string[] {
  if (spec === undefined) return [...DEFAULT_PROMPTS];
  if (typeof spec !== 'string') {
    const prompts = spec.map((prompt) => prompt.trim()).filter((prompt) => prompt !== '');
    if (prompts.length === 0) throw new TrafficError('traffic.synthetic.prompts is an empty list');
    return prompts;
  }
  return readPromptsFile(spec);
}

/**
 * Whether a prompts file holds recorded chat request bodies (its first prompt a JSON object with a "messages" list):
 * each would be sent as one user message's text, the JSON and all, where traffic.sampled.file replays them.
 */
export function promptsAreRequestBodies(prompts: readonly string[]): boolean {
  const first = prompts[0];
  if (first === undefined || !first.startsWith('{')) return false;
  try {
    const body: unknown = JSON.parse(first);
    return typeof body === 'object' && body !== null && Array.isArray((body as { messages?: unknown }).messages);
  } catch {
    return false;
  }
}
