/**
 * Tokenizer shared by every expression grammar, and DynamoDB-style syntax errors
 * (`Syntax error; token: "x", near: "prev x"`).
 */
export type TokenType = 'ident' | 'name' | 'value' | 'number' | 'punct' | 'bad' | 'eof';

export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
}

const PUNCT2 = new Set(['<>', '<=', '>=']);
const PUNCT1 = new Set(['(', ')', '[', ']', '.', ',', '=', '<', '>', '+', '-']);

/** A bare name starts with a letter: DynamoDB's lexer reads `_123` as a stray `_`. */
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 95;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      tokens.push({ type: 'ident', text: source.slice(start, i), start, end: i });
    } else if (isDigit(c)) {
      i++;
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      tokens.push({ type: 'number', text: source.slice(start, i), start, end: i });
    } else if (c === 35 /* # */ || c === 58 /* : */) {
      i++;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      const type: TokenType = i === start + 1 ? 'bad' : c === 35 ? 'name' : 'value';
      tokens.push({ type, text: source.slice(start, i), start, end: i });
    } else {
      const two = source.slice(i, i + 2);
      if (PUNCT2.has(two)) {
        i += 2;
        tokens.push({ type: 'punct', text: two, start, end: i });
      } else if (PUNCT1.has(source[i]!)) {
        i++;
        tokens.push({ type: 'punct', text: source[start]!, start, end: i });
      } else {
        // One code point, so that the message shows a whole character.
        const cp = source.codePointAt(i)!;
        i += cp > 0xffff ? 2 : 1;
        tokens.push({ type: 'bad', text: source.slice(start, i), start, end: i });
      }
    }
  }
  tokens.push({ type: 'eof', text: '<EOF>', start: n, end: n });
  return tokens;
}

/**
 * DynamoDB's syntax error text: the offending token and the text from the start of the
 * token before it to the end of the token after it ("near"), e.g. `SET a = b c d` gives
 * token "c", near "b c d"; at the end of the text, token "<EOF>" and near the last token.
 */
export function syntaxErrorMessage(source: string, tokens: Token[], index: number): string {
  const tok = tokens[index]!;
  const prev = index > 0 ? tokens[index - 1]! : undefined;
  const next = tok.type === 'eof' ? undefined : tokens[index + 1];
  const nearStart = prev ? prev.start : tok.start;
  const nearEnd = next !== undefined && next.type !== 'eof' ? next.end : tok.end;
  const near = source.slice(nearStart, nearEnd).trim();
  return `Syntax error; token: "${tok.text}", near: "${near}"`;
}
