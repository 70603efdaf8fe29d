/**
 * Stage 2: tokens -> AST (chevrotain EmbeddedActionsParser, built once, error recovery on).
 *
 * Grammar (newlines are whitespace; commas between entries and list items are optional):
 *   file    := ( 'use' STRING | 'extends' STRING | 'model' (STRING | NAME) '{' body '}' )*
 *   body    := ( entry ','? )*
 *   entry   := 'remove' NAME
 *            | NAME ':' value                 field
 *            | NAME '{' body '}'              section (no kind)
 *            | NAME kind ( '{' body '}' )?    block; kind := NAME | STRING
 *   value   := NUMBER unit? | SIZE unit? | '[' (item ','?)* ']' unit? | STRING | NAME | 'true' | 'false'
 *   item    := kind '{' body '}' | value     (a contribution with options, e.g. `my/metric { k: 3 }`)
 *   unit    := 'px' | 'steps'     (only when not followed by ':', so `steps: 10` stays a field)
 */
import type { IToken, IRecognitionException, IParserErrorMessageProvider, TokenType } from 'chevrotain';
import { chevrotain } from './chevrotain.js';
import type { BodyNode, Entry, ExtendsDecl, KeyNode, ListNode, ModelDecl, Range, SpecFile, StringNode, Unit, UnitNode, UseDecl, ValueNode } from './ast.js';
import { UNITS } from './ast.js';
import { CODES, error, type Diagnostic } from './diagnostics.js';
import {
  allTokens,
  Colon,
  Comma,
  Extends,
  False,
  Identifier,
  LCurly,
  LSquare,
  Model,
  NumberLiteral,
  numberValue,
  RCurly,
  Remove,
  RSquare,
  Size,
  StringLiteral,
  stringValue,
  tokenRange,
  True,
  Use,
} from './lexer.js';

const { EmbeddedActionsParser, EOF } = chevrotain;

export const isUnitWord = (w: string): w is Unit => (UNITS as readonly string[]).includes(w);

function describe(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  const image = token.image.length > 30 ? `${token.image.slice(0, 30)}...` : token.image;
  switch (token.tokenType) {
    case Identifier:
      return `name '${image}'`;
    case NumberLiteral:
      return `number ${image}`;
    case Size:
      return `size ${image}`;
    case StringLiteral:
      return `string ${image}`;
    default:
      return `'${image}'`;
  }
}

const label = (t: TokenType) => t.LABEL ?? t.name;

const EXPECT: Record<string, string> = {
  specFile: "'use \"plugin\"', 'extends \"file\"' or 'model \"name\" { ... }'",
  entry: "a field 'key: value', a section 'key { ... }', a block 'key kind { ... }' or 'remove key'",
  keyedTail: "':' (a field), '{' (a section) or a kind name (a block)",
  value: 'a value (a number, a size like 128x128, a name, a "string", true/false or a [list])',
  kindName: 'a kind name',
};

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF
      ? `expected ${EXPECT.specFile} at the top level, found ${describe(actual)}`
      : `expected ${label(expected)}, found ${describe(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected ${EXPECT.specFile} at the top level, found ${describe(firstRedundant)}`,
  buildNoViableAltMessage: ({ actual, previous, ruleName }) =>
    `${ruleName === 'keyedTail' ? `after '${previous.image}' ` : ''}expected ${EXPECT[ruleName] ?? 'something else'}, found ${describe(actual[0]!)}`,
  buildEarlyExitMessage: ({ actual, ruleName }) => `expected ${EXPECT[ruleName] ?? 'more input'}, found ${describe(actual[0]!)}`,
};

class PunetParser extends EmbeddedActionsParser {
  /** The file being parsed (set before each parse; ranges carry it). */
  file = '';

  constructor() {
    super(allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  private range(first: IToken, last: IToken): Range {
    const a = tokenRange(first, this.file);
    // Tokens inserted by error recovery have no position: end at the start instead.
    const b = Number.isFinite(last.startOffset) ? tokenRange(last, this.file) : a;
    return { file: this.file, start: a.start, end: b.end };
  }

  private spanOf(a: Range, b: Range): Range {
    return { file: this.file, start: a.start, end: b.end.offset >= a.end.offset ? b.end : a.end };
  }

  public specFile = this.RULE('specFile', (): SpecFile => {
    const uses: UseDecl[] = [];
    const exts: ExtendsDecl[] = [];
    const models: ModelDecl[] = [];
    const first = this.LA(1);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            const kw = this.CONSUME(Use);
            const s = this.CONSUME(StringLiteral);
            this.ACTION(() => uses.push({ module: this.str(s), range: this.range(kw, s) }));
          },
        },
        {
          ALT: () => {
            const kw = this.CONSUME(Extends);
            const s = this.CONSUME2(StringLiteral);
            this.ACTION(() => exts.push({ path: this.str(s), range: this.range(kw, s) }));
          },
        },
        {
          ALT: () => {
            const m = this.SUBRULE(this.modelDecl);
            this.ACTION(() => m && models.push(m));
          },
        },
      ]);
    });
    return this.ACTION(() => {
      const last = this.LA(0);
      const range = Number.isFinite(first.startOffset) && first.tokenType !== EOF
        ? this.range(first, last.tokenType === EOF || !Number.isFinite(last.startOffset) ? first : last)
        : { file: this.file, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } };
      return { uses, extends: exts, models, range };
    });
  });

  private modelDecl = this.RULE('modelDecl', (): ModelDecl => {
    const kw = this.CONSUME(Model);
    const nameTok = this.OR([{ ALT: () => this.CONSUME(StringLiteral) }, { ALT: () => this.CONSUME(Identifier) }]);
    const open = this.CONSUME(LCurly);
    const entries = this.SUBRULE(this.body);
    const close = this.CONSUME(RCurly);
    return this.ACTION(() => ({
      name: nameTok.tokenType === StringLiteral ? this.str(nameTok) : { type: 'string' as const, value: nameTok.image, range: tokenRange(nameTok, this.file) },
      body: { entries, range: this.range(open, close) },
      range: this.range(kw, close),
    }));
  });

  private body = this.RULE('body', (): Entry[] => {
    const entries: Entry[] = [];
    this.MANY(() => {
      const e = this.SUBRULE(this.entry);
      this.ACTION(() => e && entries.push(e));
      this.OPTION(() => this.CONSUME(Comma));
    });
    return entries;
  });

  private entry = this.RULE('entry', (): Entry => {
    return this.OR([
      {
        ALT: () => {
          const kw = this.CONSUME(Remove);
          const k = this.CONSUME(Identifier);
          return this.ACTION(() => ({ type: 'remove' as const, key: this.key(k), range: this.range(kw, k) }));
        },
      },
      {
        ALT: () => {
          // Keywords are accepted as keys so `use: ...` inside a model gets a precise message later.
          const k = this.OR9([
            { ALT: () => this.CONSUME2(Identifier) },
            { ALT: () => this.CONSUME(Use) },
            { ALT: () => this.CONSUME(Model) },
            { ALT: () => this.CONSUME(Extends) },
          ]);
          return this.SUBRULE(this.keyedTail, { ARGS: [k] });
        },
      },
    ]);
  });

  /** What follows a key decides the entry's form. */
  private keyedTail = this.RULE('keyedTail', (k: IToken): Entry => {
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(Colon);
          const v = this.SUBRULE(this.value);
          return this.ACTION(() => {
            const key = this.key(k);
            return { type: 'field' as const, key, value: v, range: v ? this.spanOf(key.range, v.range) : key.range };
          });
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(LCurly);
          const entries = this.SUBRULE(this.body);
          const close = this.CONSUME(RCurly);
          return this.ACTION(() => ({ type: 'section' as const, key: this.key(k), body: { entries, range: this.range(open, close) }, range: this.range(k, close) }));
        },
      },
      {
        ALT: () => {
          const kindTok = this.OR2([{ ALT: () => this.CONSUME3(Identifier) }, { ALT: () => this.CONSUME2(StringLiteral) }]);
          let body: BodyNode | undefined;
          let close: IToken | undefined;
          this.OPTION(() => {
            const open = this.CONSUME2(LCurly);
            const entries = this.SUBRULE2(this.body);
            close = this.CONSUME2(RCurly);
            this.ACTION(() => (body = { entries, range: this.range(open, close!) }));
          });
          return this.ACTION(() => {
            const kind: KeyNode =
              kindTok.tokenType === StringLiteral
                ? { name: stringValue(kindTok.image), range: tokenRange(kindTok, this.file) }
                : this.key(kindTok);
            return { type: 'block' as const, key: this.key(k), kind, ...(body ? { body } : {}), range: this.range(k, close ?? kindTok) };
          });
        },
      },
    ]);
  });

  /** Public so a lone value (a `--set path=value` override) can be parsed on its own. */
  public value = this.RULE('value', (): ValueNode => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(NumberLiteral);
          const unit = this.OPTION({ GATE: () => this.unitAhead(), DEF: () => this.SUBRULE(this.unit) });
          return this.ACTION(() => ({ type: 'number' as const, value: numberValue(t.image), text: t.image, ...(unit ? { unit } : {}), range: tokenRange(t, this.file) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(Size);
          const unit = this.OPTION2({ GATE: () => this.unitAhead(), DEF: () => this.SUBRULE2(this.unit) });
          return this.ACTION(() => {
            const range = tokenRange(t, this.file);
            const items = t.image.split('x').map((p) => ({ type: 'number' as const, value: Number(p), text: p, range }));
            const list: ListNode = { type: 'list', items, size: true, ...(unit ? { unit } : {}), range };
            return list;
          });
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(LSquare);
          const items: ValueNode[] = [];
          this.MANY(() => {
            const v = this.SUBRULE(this.listItem);
            this.ACTION(() => v && items.push(v));
            this.OPTION3(() => this.CONSUME(Comma));
          });
          const close = this.CONSUME(RSquare);
          const unit = this.OPTION4({ GATE: () => this.unitAhead(), DEF: () => this.SUBRULE3(this.unit) });
          return this.ACTION(() => ({ type: 'list' as const, items, ...(unit ? { unit } : {}), range: this.range(open, close) }));
        },
      },
      { ALT: () => { const t = this.CONSUME(StringLiteral); return this.ACTION(() => this.str(t)); } },
      { ALT: () => { const t = this.CONSUME(Identifier); return this.ACTION(() => ({ type: 'ident' as const, value: t.image, range: tokenRange(t, this.file) })); } },
      { ALT: () => { const t = this.CONSUME(True); return this.ACTION(() => ({ type: 'bool' as const, value: true, range: tokenRange(t, this.file) })); } },
      { ALT: () => { const t = this.CONSUME(False); return this.ACTION(() => ({ type: 'bool' as const, value: false, range: tokenRange(t, this.file) })); } },
    ]);
  });

  /** A list item: a value, or `kind { options }` (a contribution chosen in a list, like a metric). */
  private listItem = this.RULE('listItem', (): ValueNode => {
    return this.OR([
      {
        GATE: () => this.LA(2).tokenType === LCurly,
        ALT: () => {
          const kindTok = this.OR2([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(StringLiteral) }]);
          const open = this.CONSUME(LCurly);
          const entries = this.SUBRULE(this.body);
          const close = this.CONSUME(RCurly);
          return this.ACTION(() => {
            const kind: KeyNode =
              kindTok.tokenType === StringLiteral ? { name: stringValue(kindTok.image), range: tokenRange(kindTok, this.file) } : this.key(kindTok);
            return { type: 'kind' as const, kind, body: { entries, range: this.range(open, close) }, range: this.range(kindTok, close) };
          });
        },
      },
      { ALT: () => this.SUBRULE(this.value) },
    ]);
  });

  /** A unit word after a value; gated so the next field's key (`steps: ...`) is not eaten. */
  private unit = this.RULE('unit', (): UnitNode => {
    const t = this.CONSUME(Identifier);
    return this.ACTION(() => ({ name: t.image as Unit, range: tokenRange(t, this.file) }));
  });

  /** Is the next token a unit word that is not the key of the next entry? */
  private unitAhead(): boolean {
    const t = this.LA(1);
    const after = this.LA(2).tokenType;
    return t.tokenType === Identifier && isUnitWord(t.image) && after !== Colon && after !== LCurly;
  }

  private key(t: IToken): KeyNode {
    return { name: t.image, range: tokenRange(t, this.file) };
  }

  private str(t: IToken): StringNode {
    return { type: 'string', value: stringValue(t.image), range: tokenRange(t, this.file) };
  }
}

let parserInstance: PunetParser | undefined;

function parser(): PunetParser {
  parserInstance ??= new PunetParser();
  return parserInstance;
}

export interface ParseResult {
  ast: SpecFile;
  diagnostics: Diagnostic[];
}

/** Deeper nesting than this is refused before parsing (no spec needs more than ~4 levels). */
export const MAX_NESTING = 64;

export function parseTokens(tokens: IToken[], file: string): ParseResult {
  const tooDeep = findExcessiveNesting(tokens);
  if (tooDeep) {
    const d = error(CODES.syntax, `nesting is too deep (more than ${MAX_NESTING} levels of { } or [ ])`, tokenRange(tooDeep, file));
    return { ast: { uses: [], extends: [], models: [], range: emptyRange(file) }, diagnostics: [d] };
  }
  const p = parser();
  p.file = file;
  p.input = tokens;
  const ast = p.specFile();
  const diagnostics = p.errors.map((e) => parseDiagnostic(e, file));
  return { ast: ast ?? { uses: [], extends: [], models: [], range: emptyRange(file) }, diagnostics };
}

function findExcessiveNesting(tokens: IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === LCurly || t.tokenType === LSquare) {
      if (++depth > MAX_NESTING) return t;
    } else if (t.tokenType === RCurly || t.tokenType === RSquare) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function parseDiagnostic(e: IRecognitionException, file: string): Diagnostic {
  let token = e.token;
  // An error at end of input has no position: point just after the last real token.
  if (!Number.isFinite(token.startOffset) || token.tokenType === EOF) {
    const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
    if (prev && Number.isFinite(prev.startOffset)) {
      const r = tokenRange(prev, file);
      return error(CODES.syntax, e.message, { file, start: r.end, end: { ...r.end, col: r.end.col + 1, offset: r.end.offset + 1 } });
    }
    return error(CODES.syntax, e.message, emptyRange(file));
  }
  return error(CODES.syntax, e.message, tokenRange(token, file));
}

function emptyRange(file: string): Range {
  return { file, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } };
}


/** Parses tokens holding exactly one value (the right-hand side of `--set path=value`). */
export function parseValueTokens(tokens: IToken[], file: string): { value?: ValueNode; diagnostics: Diagnostic[] } {
  const p = parser();
  p.file = file;
  p.input = tokens;
  const value = p.value();
  const diagnostics = p.errors.map((e) => parseDiagnostic(e, file));
  return { ...(value && !diagnostics.length ? { value } : {}), diagnostics };
}
