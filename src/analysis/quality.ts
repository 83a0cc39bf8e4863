// Quality checks on successful answers: a 200 with a useless answer is still a bad green.
import type { QualityRules } from '../plan/schema.js';
import type { UpstreamResult } from '../upstream/types.js';

export type QualityChecker = (result: UpstreamResult) => { ok: boolean; reason?: string };

/** Builds the checker once (the regex compiled once); failed requests are errors, not quality failures. */
export function createQualityChecker(rules: QualityRules | undefined): QualityChecker {
  if (!rules) return () => ({ ok: true });
  const regex = rules.regex !== undefined ? new RegExp(rules.regex) : undefined;
  const contains = rules.contains === undefined ? [] : Array.isArray(rules.contains) ? rules.contains : [rules.contains];
  const finishReasons = rules.finish_reasons ? new Set(rules.finish_reasons) : undefined;
  return (result) => {
    if (!result.ok) return { ok: true };
    const content = result.content;
    if (rules.min_content_length !== undefined && content.length < rules.min_content_length) {
      return { ok: false, reason: `answer of ${content.length} characters, shorter than ${rules.min_content_length}` };
    }
    if (rules.json && !isJson(content)) return { ok: false, reason: 'answer is not JSON' };
    for (const text of contains) {
      if (!content.includes(text)) return { ok: false, reason: `answer does not contain ${JSON.stringify(text)}` };
    }
    if (regex && !regex.test(content)) return { ok: false, reason: `answer does not match /${regex.source}/` };
    if (finishReasons && !finishReasons.has(result.finishReason ?? '')) {
      return { ok: false, reason: `finish reason ${JSON.stringify(result.finishReason ?? null)} is not allowed` };
    }
    return { ok: true };
  };
}

function isJson(content: string): boolean {
  // Models often wrap JSON in a Markdown fence; the JSON inside is what an application would parse.
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(content);
  const text = (fenced?.[1] ?? content).trim();
  if (!text) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
