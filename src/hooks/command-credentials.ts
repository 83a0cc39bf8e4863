// The credentials an exec hook's command line carries outside its URLs: `curl -u ci:token`, `--password=…`,
// `-H "Authorization: Bearer …"`, `-H 'x-api-key: …'`. The command is quoted in every message about the hook.

/** Options whose value (the next word, `--option=value`, or the rest of a short option's word) is a credential. */
const USER_OPTIONS = ['-u', '--user', '-U', '--proxy-user'];
const PASSWORD_OPTIONS = ['--password', '--http-password', '--proxy-password', '--ftp-password'];

/**
 * A header whose value is a credential, as a word of the command holds it (`Authorization: Bearer T`,
 * `-Hx-api-key: T`): group 1 is set for (Proxy-)Authorization, group 2 is the value.
 */
const SECRET_HEADER = /^(?:-H|--header=)?(?:proxy-)?(?:(authorization)|[\w-]*api-key|[\w-]*auth-token):\s*(.+)$/is;

/**
 * An authorization scheme ahead of the credential (`Bearer`, `Basic`, `token`): the word after it is the secret.
 * Only (Proxy-)Authorization values have one: all of an api-key or auth-token header's value is the credential,
 * spaces and all (`x-api-key: ab12 cd34` shows neither word).
 */
const SCHEME = /^[A-Za-z][\w-]*\s+(?=\S)/;

/** `$TOKEN`, `${TOKEN}`: the shell fills it in, so the command holds no secret (a secret variable's value is redacted anyway). */
const SHELL_VARIABLE = /^\$(?:\w+|\{\w+\})$/;

interface ShellWord {
  /** The word as the command runs it, quotes removed. */
  value: string;
  /** The word as written, without the quotes around the whole of it: what the command's own text shows. */
  written: string;
}

export interface CommandCredential {
  /** The credential as the command uses it, and as written when quoting or escapes make that differ. */
  spellings: string[];
  /** For `-u user:password`: the pair, which curl sends as a Basic token. */
  userinfo?: { user: string; password: string };
}

/** The credentials the command holds. */
export function commandCredentials(command: string): CommandCredential[] {
  const words = shellWords(command);
  return words
    .flatMap((word, index) => {
      const next = words[index + 1];
      const value = optionValue(word, next, USER_OPTIONS) ?? optionValue(word, next, PASSWORD_OPTIONS);
      // `-u` alone is also sort's, date's, set's: only a `user:password` value is taken for curl's credentials.
      const isUser = optionValue(word, next, USER_OPTIONS) !== undefined;
      if (value !== undefined && (!isUser || value.value.includes(':'))) return [credential([value.value, value.written], isUser)];
      const header = [word.value, word.written].map((text) => headerCredential(text));
      if (header[0] !== undefined)
        return [
          credential(
            header.filter((text) => text !== undefined),
            false,
          ),
        ];
      return [];
    })
    .filter((found) => found.spellings.length > 0);
}

/** The credential a header word carries (`Authorization: Bearer T` gives `T`, `x-api-key: a b` gives `a b`). */
function headerCredential(text: string): string | undefined {
  const match = SECRET_HEADER.exec(text);
  const value = match?.[2]?.trim();
  return match?.[1] !== undefined ? value?.replace(SCHEME, '') : value;
}

/** The value `word` gives one of the options: the next word, or what follows `--option=` or a short option in its word. */
function optionValue(word: ShellWord, next: ShellWord | undefined, options: readonly string[]): ShellWord | undefined {
  if (options.includes(word.value)) return next;
  for (const option of options) {
    const prefix = option.startsWith('--') ? `${option}=` : option;
    if (word.value.startsWith(prefix) && word.value.length > prefix.length) {
      return { value: word.value.slice(prefix.length), written: word.written.slice(prefix.length) };
    }
  }
  return undefined;
}

function credential(spellings: string[], isUser: boolean): CommandCredential {
  const kept = [...new Set(spellings)].filter((text) => text !== '' && !SHELL_VARIABLE.test(text));
  const [user = '', password = ''] = kept[0]?.split(/:(.*)/s) ?? [];
  return isUser ? { spellings: kept, userinfo: { user, password } } : { spellings: kept };
}

/** The command's words as /bin/sh splits them, near enough: quotes and backslashes honoured, no expansion. */
function shellWords(command: string): ShellWord[] {
  const words: ShellWord[] = [];
  let word: ShellWord | undefined;
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const char = command.charAt(i);
    if (quote === undefined && /[\s;&|()<>]/.test(char)) {
      if (word) words.push({ value: word.value, written: unquoted(word.written) });
      word = undefined;
      continue;
    }
    word ??= { value: '', written: '' };
    word.written += char;
    if (char === quote) quote = undefined;
    else if (quote === undefined && (char === "'" || char === '"')) quote = char;
    else if (char === '\\' && quote !== "'" && i + 1 < command.length && (quote === undefined || /["\\$`]/.test(command.charAt(i + 1)))) {
      // Outside quotes a backslash escapes any character; inside double quotes only these.
      word.value += command.charAt(++i);
      word.written += command.charAt(i);
    } else word.value += char;
  }
  if (word) words.push({ value: word.value, written: unquoted(word.written) });
  return words;
}

/** `'x'` or `"x"` as `x`: the text between the quotes is what a message quoting the command shows around the secret. */
function unquoted(written: string): string {
  const first = written.charAt(0);
  return (first === "'" || first === '"') && written.length > 1 && written.endsWith(first) ? written.slice(1, -1) : written;
}
