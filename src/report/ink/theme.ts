// How a tone looks. The view-model says what a piece of text means (ok, bad, blue arm...); only this maps it to
// colours, and with colours off (NO_COLOR, TERM=dumb) it maps every tone to no style at all.
import chalk from 'chalk';

export type Tone = 'plain' | 'title' | 'muted' | 'ok' | 'warn' | 'bad' | 'blue' | 'green' | 'accent' | 'key';

// Ink's own chalk (one copy in node_modules): the same colour codes, and the same colour-level detection, that
// <Text color> would give.
const STYLES: Record<Tone, ((text: string) => string) | undefined> = {
  plain: undefined,
  title: chalk.bold,
  muted: chalk.gray,
  ok: chalk.green,
  warn: chalk.yellow,
  bad: chalk.red.bold,
  blue: chalk.blueBright,
  green: chalk.greenBright,
  accent: chalk.cyan,
  key: chalk.cyan.bold,
};

/** The text in its tone's style; unchanged with colours off or no tone. */
export function paint(text: string, tone: Tone | undefined, colors: boolean): string {
  const style = colors && tone ? STYLES[tone] : undefined;
  return style ? style(text) : text;
}

/** https://no-color.org: NO_COLOR set to anything but the empty string turns colour off; so does TERM=dumb. */
export function colorsEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}
