// What no model name holds, shared by the plan schema (a plan's model names) and the proxy (a request's model,
// which it matches byte for byte): zod stays out of the proxy, so this lives apart from the schema.
import { CONTROL_CHARACTER_RANGES } from './format.js';

/**
 * What shows as nothing or as a plain space: format characters (zero-width spaces and joiners, soft hyphens, word
 * joiners, byte order marks, tags), other spaces than U+0020, variation selectors and Hangul fillers. A model name
 * holding one looks like another, yet is another model to the upstream and to the proxy's routing.
 */
// The combining ones (U+034F, U+1160, the variation selectors) as alternatives: in a class they read as joined.
export const INVISIBLE = /[\p{Cf}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u115f\u3164\uffa0]|\u034f|\u1160|\p{Variation_Selector}/u;

const CONTROL = new RegExp(`[${CONTROL_CHARACTER_RANGES}]`, 'u');

/** `U+0000 at character 7`: the character `found` matched in `name` (counted in code points, from 1). */
export function characterAt(name: string, found: RegExpExecArray): string {
  const code = (found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `U+${code} at character ${[...name.slice(0, found.index)].length + 1}`;
}

/**
 * Why a request's model name is no model's, or undefined: a control character, an invisible one, or a space at
 * either end. Such a name is not split (the proxy matches names exactly), yet an upstream that trims or drops
 * them would serve the model under rollout for it, outside the split.
 */
export function oddModelName(name: string): string | undefined {
  const control = CONTROL.exec(name);
  if (control) return `holds a control character (${characterAt(name, control)})`;
  const invisible = INVISIBLE.exec(name);
  if (invisible) return `holds an invisible character (${characterAt(name, invisible)})`;
  if (name.startsWith(' ')) return 'starts with a space';
  if (name.endsWith(' ')) return 'ends with a space';
  return undefined;
}
