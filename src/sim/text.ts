// Plausible answer text (about one token a word) and a prompt token estimate (about four characters a token).
import { pick, randomInt, type RandomSource } from '../core/random.js';

const WORDS = [
  'the',
  'model',
  'answer',
  'request',
  'response',
  'customer',
  'order',
  'account',
  'service',
  'update',
  'please',
  'check',
  'your',
  'settings',
  'and',
  'try',
  'again',
  'we',
  'can',
  'help',
  'with',
  'that',
  'issue',
  'today',
  'here',
  'is',
  'a',
  'short',
  'summary',
  'of',
  'the',
  'steps',
  'you',
  'need',
  'to',
  'follow',
  'first',
  'then',
  'next',
  'finally',
  'open',
  'page',
  'select',
  'option',
  'confirm',
  'change',
  'it',
  'should',
  'take',
  'effect',
  'within',
  'few',
  'minutes',
  'if',
  'problem',
  'persists',
  'contact',
  'support',
  'team',
  'will',
  'review',
  'details',
  'as',
  'soon',
  'possible',
  'thank',
  'for',
  'patience',
  'this',
  'usually',
  'means',
  'data',
  'was',
  'saved',
  'correctly',
  'refund',
  'processed',
  'in',
  'days',
  'shipping',
  'address',
  'invoice',
  'plan',
  'upgrade',
  'feature',
  'available',
  'on',
  'all',
  'tiers',
];

/** `count` tokens, each one word with its leading space (except the first), in sentences. */
export function generateTokens(random: RandomSource, count: number): string[] {
  const tokens: string[] = [];
  let sentenceLeft = 0;
  for (let i = 0; i < count; i++) {
    let word = pick(random, WORDS);
    if (sentenceLeft === 0) {
      word = word.charAt(0).toUpperCase() + word.slice(1);
      sentenceLeft = randomInt(random, 6, 14);
    }
    sentenceLeft--;
    if (sentenceLeft === 0 || i === count - 1) word += '.';
    tokens.push(i === 0 ? word : ` ${word}`);
  }
  return tokens;
}

/** The text inside a message's content: a string, or the `text` of its parts; other parts count nothing. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '',
      )
      .join('');
  }
  return '';
}

/** Prompt tokens: total characters / 4 plus a small per-message overhead, like chat templates add. */
export function estimatePromptTokens(texts: readonly string[], messageCount: number): number {
  const chars = texts.reduce((sum, text) => sum + text.length, 0);
  return Math.ceil(chars / 4) + 3 * messageCount + 3;
}

/** An id with a prefix and 24 characters from the request's random source. */
export function randomId(random: RandomSource, prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = prefix;
  for (let i = 0; i < 24; i++) id += alphabet.charAt(randomInt(random, 0, alphabet.length - 1));
  return id;
}
