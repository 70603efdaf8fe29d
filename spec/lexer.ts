/**
 * Stage 1: text -> tokens (chevrotain). The lexer is built once at module load and reused.
 * Lexing problems (stray characters, unterminated strings, malformed numbers) become
 * diagnostics; bad numbers and strings are kept as (invalid) literals and stray characters are
 * dropped, so the parser can still report later errors without cascading.
 */
import type { IToken, TokenType } from 'chevrotain';
import { chevrotain } from './chevrotain.js';
import type { Position, Range } from './ast.js';

const { createToken, Lexer } = chevrotain;
import { CODES, error, type Diagnostic } from './diagnostics.js';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*(?:[-+/][A-Za-z0-9_]+)*/, label: 'a name' });
const keyword = (name: string, word: string) => createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });
export const Model = keyword('Model', 'model');
export const Use = keyword('Use', 'use');
export const Extends = keyword('Extends', 'extends');
export const Remove = keyword('Remove', 'remove');
export const True = keyword('True', 'true');
export const False = keyword('False', 'false');

export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n\r]|\\.)*"/, label: 'a string' });
/** Matched only when StringLiteral fails: a quote with no closing quote on its line. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n\r]|\\.)*\\?/ });
/** `128x128`, `32x32x3`: a size literal. Before Number so `128x128` is not `128` + `x128`. */
export const Size = createToken({ name: 'Size', pattern: /\d+(?:x\d+)+(?![A-Za-z0-9_.])/, label: 'a size (e.g. 128x128)', start_chars_hint: [...'0123456789'] });
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?(?:k|M|%)?(?![A-Za-z0-9_.%])/,
  label: 'a number',
  start_chars_hint: [...'-.0123456789'],
});
/** Anything number-like that is not a valid number (`3convs`, `1.2.3`, `10kk`). */
export const BadNumber = createToken({ name: 'BadNumber', pattern: /-?\.?\d[A-Za-z0-9_.%]*/ });

export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: "'}'" });
export const LSquare = createToken({ name: 'LSquare', pattern: /\[/, label: "'['" });
export const RSquare = createToken({ name: 'RSquare', pattern: /\]/, label: "']'" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Model,
  Use,
  Extends,
  Remove,
  True,
  False,
  Identifier,
  StringLiteral,
  UnterminatedString,
  Size,
  NumberLiteral,
  BadNumber,
  LCurly,
  RCurly,
  LSquare,
  RSquare,
  Colon,
  Comma,
];

const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

export interface LexResult {
  tokens: IToken[];
  diagnostics: Diagnostic[];
}

/** Tokenises `text`; never throws. */
export function tokenize(text: string, file: string): LexResult {
  const result = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = [];
  // Binary or badly broken input: report the first few runs of bad characters, not thousands.
  const MAX_LEX_ERRORS = 10;
  for (const e of result.errors.slice(0, MAX_LEX_ERRORS)) {
    const bad = text.slice(e.offset, e.offset + (e.length ?? 1));
    const shown = bad.length > 20 ? `${bad.slice(0, 20)}...` : bad;
    diagnostics.push(
      error(
        CODES.unexpectedCharacter,
        `unexpected character${bad.length > 1 ? 's' : ''} ${JSON.stringify(shown)}`,
        rangeOfOffsets(text, file, e.offset, e.offset + (e.length ?? 1)),
      ),
    );
  }
  if (result.errors.length > MAX_LEX_ERRORS) {
    diagnostics.push(error(CODES.unexpectedCharacter, `${result.errors.length - MAX_LEX_ERRORS} more runs of unexpected characters not shown (is this a .punet text file?)`, undefined));
    diagnostics[diagnostics.length - 1]!.file = file;
  }
  const tokens: IToken[] = [];
  for (const token of result.tokens) {
    if (token.tokenType === UnterminatedString) {
      diagnostics.push(error(CODES.unterminatedString, 'unterminated string: add the closing \'"\' on the same line', tokenRange(token, file)));
      // Kept as a string so the parser does not cascade into errors about what follows.
      tokens.push(retype(token, StringLiteral));
    } else if (token.tokenType === BadNumber) {
      diagnostics.push(
        error(
          CODES.malformedNumber,
          `malformed number '${token.image}': write digits with an optional exponent and suffix (e.g. 42, 1e-4, 80k, 2M, 5%)`,
          tokenRange(token, file),
        ),
      );
      tokens.push(retype(token, NumberLiteral));
    } else {
      tokens.push(token);
    }
  }
  return { tokens, diagnostics };
}

function retype(token: IToken, type: TokenType): IToken {
  return { ...token, tokenType: type, tokenTypeIdx: type.tokenTypeIdx! };
}

export function tokenRange(token: IToken, file: string): Range {
  const start: Position = { line: token.startLine ?? 1, col: token.startColumn ?? 1, offset: token.startOffset };
  const endOffset = (token.endOffset ?? token.startOffset) + 1;
  const end: Position = { line: token.endLine ?? start.line, col: (token.endColumn ?? start.col) + 1, offset: endOffset };
  return { file, start, end };
}

/** Range from character offsets (used for lexer errors, which carry only a start). */
export function rangeOfOffsets(text: string, file: string, from: number, to: number): Range {
  return { file, start: positionAt(text, from), end: positionAt(text, to) };
}

export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  const stop = Math.min(offset, text.length);
  for (let i = 0; i < stop; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1, offset };
}

/** The numeric value of a NumberLiteral image: `80k` = 80000, `2M` = 2e6, `5%` = 0.05, `1e-5`. */
export function numberValue(image: string): number {
  const m = /^(-?(?:\d+(?:\.\d+)?|\.\d+))(?:[eE]([+-]?\d+))?(k|M|%)?$/.exec(image);
  if (!m) return Number.NaN;
  const shift = m[3] === 'k' ? 3 : m[3] === 'M' ? 6 : m[3] === '%' ? -2 : 0;
  // Shift the decimal exponent instead of multiplying, so 5e-5 and 0.5% are exact decimals.
  return Number(`${m[1]}e${Number(m[2] ?? 0) + shift}`);
}

/** The value of a string literal: JSON-style escapes \" \\ \n \t \uXXXX; an unknown escape keeps the character. */
export function stringValue(image: string): string {
  return image.slice(1, -1).replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, esc: string) => {
    if (esc.length === 5) return String.fromCharCode(parseInt(esc.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r' } as Record<string, string>)[esc] ?? esc;
  });
}
