// Prompts for synthetic traffic: a file (one a line), an inline list, or a built-in default list.
import { readFile } from 'node:fs/promises';
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
export async function loadPrompts(spec: string | readonly string[] | undefined): Promise<string[]> {
  if (spec === undefined) return [...DEFAULT_PROMPTS];
  if (typeof spec !== 'string') {
    const prompts = spec.map((prompt) => prompt.trim()).filter((prompt) => prompt !== '');
    if (prompts.length === 0) throw new TrafficError('traffic.synthetic.prompts is an empty list');
    return prompts;
  }
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (error) {
    throw new TrafficError(`cannot read prompts file ${spec}: ${describeError(error)}`, spec);
  }
  return parsePrompts(text, spec);
}
