/**
 * JSON text → value, with syntax errors located by line and column (V8's messages give at most a byte
 * offset, often none). The locating scanner runs only after `JSON.parse` has failed.
 */

/** Parses `text`; a syntax error becomes `file: invalid JSON at line L, column C: <reason>`. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = firstSyntaxError(text);
    const { line, column } = lineAndColumn(text, at);
    const reason = (e as Error).message
      .split('\n')[0]
      .replace(/, (\.\.\.)?".*$/s, '')
      .replace(/ (in JSON )?at position \d+.*$/, '');
    throw new Error(`${file}: invalid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const LITERALS = ['true', 'false', 'null'];

/** Offset of the first character that breaks the JSON grammar (text.length for an early end). */
export function firstSyntaxError(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (c: string) => {
    skipSpace();
    if (text[i] !== c) fail();
    i++;
  };
  const string = () => {
    for (i++; text[i] !== '"'; ) {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) fail();
        i = ESCAPE.lastIndex;
      } else i++;
    }
    i++;
  };
  const scalar = () => {
    const word = LITERALS.find((w) => text.startsWith(w, i));
    if (word) {
      i += word.length;
      return;
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail();
    i = NUMBER.lastIndex;
  };
  const members = (close: string, member: () => void) => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skipSpace();
      if (text[i] === close) break;
      if (text[i] !== ',') fail();
      i++;
    }
    i++;
  };
  const property = () => {
    skipSpace();
    if (text[i] !== '"') fail();
    string();
    expect(':');
    value();
  };
  const value = () => {
    skipSpace();
    if (text[i] === '{') members('}', property);
    else if (text[i] === '[') members(']', value);
    else if (text[i] === '"') string();
    else scalar();
  };
  try {
    value();
    skipSpace();
    return i;
  } catch (at) {
    return Math.min(at as number, text.length);
  }
}
