// The prose after a command's options, wrapped to the terminal as commander wraps the options above it: written
// at ~110 columns, it broke mid-word on an 80-column terminal. Indented lines (examples) are left as written, so
// a command copied from them still runs.
import { Help, type AddHelpTextContext } from 'commander';

/** For `.addHelpText('after', afterHelp(text))`. */
export function afterHelp(text: string): (context: AddHelpTextContext) => string {
  return ({ command, error }) => {
    const output = command.configureOutput();
    const width = (error ? output.getErrHelpWidth?.() : output.getOutHelpWidth?.()) ?? 80;
    return wrapProse(text, width);
  };
}

/** Joins each paragraph's unindented lines and wraps them at width; blank and indented lines stay as they are. */
export function wrapProse(text: string, width: number): string {
  const help = new Help();
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(help.boxWrap(paragraph.join(' '), width));
    paragraph = [];
  };
  for (const line of text.split('\n')) {
    if (line === '' || /^\s/.test(line)) {
      flush();
      out.push(line);
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return out.join('\n');
}
