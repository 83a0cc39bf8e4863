// How a tone looks. The view-model says what a piece of text means (ok, bad, blue arm...); only this maps it to
// colours, and with colours off (NO_COLOR, TERM=dumb) it maps every tone to no style at all.

export type Tone = 'plain' | 'title' | 'muted' | 'ok' | 'warn' | 'bad' | 'blue' | 'green' | 'accent' | 'key';

export interface TextStyle {
  color?: string;
  bold?: boolean;
}

const STYLES: Record<Tone, TextStyle> = {
  plain: {},
  title: { bold: true },
  muted: { color: 'gray' },
  ok: { color: 'green' },
  warn: { color: 'yellow' },
  bad: { color: 'red', bold: true },
  blue: { color: 'blueBright' },
  green: { color: 'greenBright' },
  accent: { color: 'cyan' },
  key: { color: 'cyan', bold: true },
};

export function styleFor(tone: Tone | undefined, colors: boolean): TextStyle {
  if (!colors || !tone) return {};
  return STYLES[tone];
}

/** https://no-color.org: NO_COLOR set to anything but the empty string turns colour off; so does TERM=dumb. */
export function colorsEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}
