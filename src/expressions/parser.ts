/**
 * Recursive-descent parsers for DynamoDB's expression grammars. Syntax errors stop the
 * parse at once; semantic errors (reserved words, undefined placeholders, misused or
 * unknown functions, operand types, overlapping paths) are collected while parsing and
 * the first one in DynamoDB's order of checks is thrown once the whole text parsed, so
 * a syntax error anywhere wins, as in DynamoDB.
 */
import type { AttributeValue } from '../model/types.js';
import { validationError } from '../model/errors.js';
import type { ExpressionContext } from './context.js';
import type { Comparator, ConditionAst, Operand, Path, UpdateAst, UpdateValue, ValueAction, SetAction } from './ast.js';
import { syntaxErrorMessage, tokenize, type Token } from './lexer.js';
import { isReservedWord } from './reserved.js';
import { compareValues, pathString, sizeOf, typeOf, TYPE_TAGS, utf8Length } from './values.js';

export const MAX_EXPRESSION_BYTES = 4096;
export const MAX_OPERATORS = 300;
/** The IN operator takes at most 100 values. */
export const MAX_IN_OPERANDS = 100;

export type ExpressionLabel =
  | 'ConditionExpression'
  | 'FilterExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression'
  | 'KeyConditionExpression';

type ErrorCategory =
  | 'condition'
  | 'parens'
  | 'unknownFunction'
  | 'misusedFunction'
  | 'reserved'
  | 'section'
  | 'placeholder'
  | 'pathOverlap'
  | 'pathConflict'
  | 'operand'
  | 'distinct'
  | 'function';

/** In a condition, the errors of the first condition (comparison, BETWEEN, IN or function)
 *  that has any come after these; within a condition, in CONDITION_LEVEL_ORDER. */
const CONDITION_ERROR_ORDER: ErrorCategory[] = [
  'parens', 'unknownFunction', 'misusedFunction', 'reserved', 'condition', 'placeholder', 'operand', 'distinct', 'function',
];
const CONDITION_LEVEL_ORDER: ErrorCategory[] = ['placeholder', 'operand', 'distinct', 'function'];
const UPDATE_ERROR_ORDER: ErrorCategory[] = [
  'reserved', 'unknownFunction', 'section', 'placeholder', 'pathOverlap', 'pathConflict', 'operand', 'function',
];
const PROJECTION_ERROR_ORDER: ErrorCategory[] = ['reserved', 'placeholder', 'pathOverlap', 'pathConflict'];

/** Thrown inside the parser for a syntax error at token `index`; turned into a ValidationException. */
class SyntaxFail {
  constructor(readonly index: number) {}
}

const COMPARATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const CONDITION_FUNCTIONS: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
};
const UPDATE_FUNCTIONS: Record<string, number> = { if_not_exists: 2, list_append: 2 };
const CONDITION_KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN']);
const UPDATE_KEYWORDS = new Set(['SET', 'REMOVE', 'ADD', 'DELETE']);
const NO_KEYWORDS = new Set<string>();
const LONG_TYPE_NAMES: Record<string, string> = {
  S: 'STRING', N: 'NUMBER', B: 'BINARY', NULL: 'NULL', BOOL: 'BOOLEAN', L: 'LIST', M: 'MAP',
};

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** How DynamoDB prints a scalar in messages: `{N:5}`. */
function shortValue(v: AttributeValue): string {
  const t = typeOf(v);
  const x = (v as Record<string, unknown>)[t];
  return `{${t}:${x instanceof Uint8Array ? Buffer.from(x).toString('base64') : String(x)}}`;
}

/** A placeholder condition returned where an error was recorded (never evaluated). */
const DUMMY_CONDITION: ConditionAst = { kind: 'attribute_exists', path: ['_'] };
const DUMMY_OPERAND: Operand = { kind: 'path', path: ['_'] };

/** Result of parsing something that may be a condition function or an operand. */
type Term = { cond: ConditionAst; fn: string } | { operand: Operand };

class Parser {
  readonly tokens: Token[];
  pos = 0;
  operators = 0;
  private errors: Partial<Record<ErrorCategory, string>> = {};
  /** "open:close" token indexes of parenthesized groups, to spot redundant parentheses. */
  private parenGroups = new Set<string>();

  constructor(
    readonly source: string,
    readonly label: ExpressionLabel,
    readonly ctx: ExpressionContext,
    readonly keywords: Set<string>,
  ) {
    this.tokens = tokenize(source);
  }

  // ---- token helpers -------------------------------------------------------------------

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }
  fail(index = this.pos): never {
    throw new SyntaxFail(index);
  }
  isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'punct' && t.text === text;
  }
  expectPunct(text: string): Token {
    if (!this.isPunct(text)) this.fail();
    return this.next();
  }
  isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'ident' && t.text.toUpperCase() === word;
  }
  expectEnd(): void {
    if (this.peek().type !== 'eof') this.fail();
  }

  note(category: ErrorCategory, message: string): void {
    if (this.errors[category] === undefined) this.errors[category] = message;
  }

  /** Runs a parse step; throws the collected semantic error, if any, in `order`. */
  run<T>(step: () => T, order: ErrorCategory[]): T {
    let result: T;
    try {
      result = step();
    } catch (e) {
      if (e instanceof SyntaxFail) {
        throw validationError(`Invalid ${this.label}: ${syntaxErrorMessage(this.source, this.tokens, e.index)}`);
      }
      throw e;
    }
    for (const c of order) {
      const m = this.errors[c];
      if (m !== undefined) throw validationError(`Invalid ${this.label}: ${m}`);
    }
    if (this.operators > MAX_OPERATORS) {
      throw validationError(`Invalid ${this.label}: The expression contains too many operators; operator count: ${this.operators}`);
    }
    return result;
  }

  /** Index of the `)` matching the `(` at token `open`, or -1. */
  matchingParen(open: number): number {
    let depth = 0;
    for (let i = open; i < this.tokens.length; i++) {
      const t = this.tokens[i]!;
      if (t.type !== 'punct') continue;
      if (t.text === '(') depth++;
      else if (t.text === ')' && --depth === 0) return i;
    }
    return -1;
  }

  /** `( inner )`, flagging `((x))`. */
  parenthesized<T>(inner: () => T): T {
    const open = this.pos;
    this.expectPunct('(');
    const r = inner();
    const close = this.pos;
    this.expectPunct(')');
    if (this.parenGroups.has(`${open + 1}:${close - 1}`)) this.note('parens', 'The expression has redundant parentheses;');
    this.parenGroups.add(`${open}:${close}`);
    return r;
  }

  // ---- paths and placeholders ----------------------------------------------------------

  pathSegment(): string {
    const t = this.peek();
    if (t.type === 'ident') {
      if (this.keywords.has(t.text.toUpperCase())) this.fail();
      this.next();
      if (isReservedWord(t.text)) this.note('reserved', `Attribute name is a reserved keyword; reserved keyword: ${t.text}`);
      return t.text;
    }
    if (t.type === 'name') {
      this.next();
      const names = this.ctx.names;
      if (names === undefined || !hasOwn(names, t.text)) {
        this.note('placeholder', `An expression attribute name used in the document path is not defined; attribute name: ${t.text}`);
        return t.text;
      }
      this.ctx.usedNames.add(t.text);
      return names[t.text]!;
    }
    this.fail();
  }

  path(): Path {
    return this.pathTail([this.pathSegment()]);
  }

  /** The `.name` and `[n]` that follow the start of a path. */
  pathTail(path: Path): Path {
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        path.push(this.pathSegment());
      } else if (this.isPunct('[')) {
        this.next();
        const t = this.peek();
        if (t.type !== 'number') this.fail();
        this.next();
        this.expectPunct(']');
        const ix = Number(t.text);
        if (!Number.isSafeInteger(ix)) this.fail(this.pos - 2);
        path.push(ix);
      } else {
        return path;
      }
    }
  }

  value(): AttributeValue {
    const t = this.peek();
    if (t.type !== 'value') this.fail();
    this.next();
    const values = this.ctx.values;
    if (values === undefined || !hasOwn(values, t.text)) {
      this.note('placeholder', `An expression attribute value used in expression is not defined; attribute value: ${t.text}`);
      return { NULL: true };
    }
    this.ctx.usedValues.add(t.text);
    return values[t.text]!;
  }

  isFunctionCall(): boolean {
    return this.peek().type === 'ident' && this.isPunct('(', 1) && !this.keywords.has(this.peek().text.toUpperCase());
  }

  argList<T>(arg: () => T): T[] {
    const args: T[] = [];
    this.expectPunct('(');
    args.push(arg());
    while (this.isPunct(',')) {
      this.next();
      args.push(arg());
    }
    this.expectPunct(')');
    return args;
  }

  // ---- conditions ----------------------------------------------------------------------

  condition(): ConditionAst {
    let left = this.andCondition();
    while (this.isKeyword('OR')) {
      this.next();
      this.operators++;
      left = { kind: 'or', left, right: this.andCondition() };
    }
    return left;
  }

  andCondition(): ConditionAst {
    let left = this.notCondition();
    while (this.isKeyword('AND')) {
      this.next();
      this.operators++;
      left = { kind: 'and', left, right: this.notCondition() };
    }
    return left;
  }

  notCondition(): ConditionAst {
    if (this.isKeyword('NOT')) {
      this.next();
      this.operators++;
      return { kind: 'not', operand: this.notCondition() };
    }
    return this.primaryCondition();
  }

  primaryCondition(): ConditionAst {
    if (this.isPunct('(')) {
      // A parenthesized condition, unless the group is an operand: `(a) = :v`.
      const close = this.matchingParen(this.pos);
      if (close < 0) return this.parenthesized(() => this.condition());
      const saved = this.pos;
      this.pos = close + 1;
      // `(a).b = :v`: a parenthesized path that goes on is an operand too.
      const operandGroup = this.followsComparison() || this.isPunct('.') || this.isPunct('[');
      this.pos = saved;
      if (!operandGroup) return this.parenthesized(() => this.condition());
    }
    return this.comparison();
  }

  private followsComparison(): boolean {
    const t = this.peek();
    return (t.type === 'punct' && COMPARATORS.has(t.text)) || this.isKeyword('BETWEEN') || this.isKeyword('IN');
  }

  /** One condition; the first one with errors decides which of them DynamoDB reports. */
  comparison(): ConditionAst {
    const condition = this.comparisonOrFunction();
    if (this.errors.condition === undefined) {
      const first = CONDITION_LEVEL_ORDER.find((c) => this.errors[c] !== undefined);
      if (first !== undefined) this.errors.condition = this.errors[first];
    }
    return condition;
  }

  private comparisonOrFunction(): ConditionAst {
    const term = this.term();
    if ('cond' in term) {
      if (this.followsComparison()) {
        this.note('misusedFunction', `The function is not allowed to be used this way in an expression; function: ${term.fn}`);
        return this.comparisonRest(DUMMY_OPERAND);
      }
      return term.cond;
    }
    if (term.operand.kind === 'size' && !this.followsComparison()) {
      this.note('misusedFunction', 'The function is not allowed to be used this way in an expression; function: size');
      return DUMMY_CONDITION;
    }
    return this.comparisonRest(term.operand);
  }

  comparisonRest(left: Operand): ConditionAst {
    const t = this.peek();
    if (t.type === 'punct' && COMPARATORS.has(t.text)) {
      this.next();
      this.operators++;
      const right = this.operand();
      this.checkDistinct(t.text, left, right);
      if (t.text !== '=' && t.text !== '<>') this.checkOrderable(t.text, [left, right]);
      return { kind: 'compare', op: t.text as Comparator, left, right };
    }
    if (this.isKeyword('BETWEEN')) {
      this.next();
      this.operators++;
      const low = this.operand();
      if (!this.isKeyword('AND')) this.fail();
      this.next();
      const high = this.operand();
      if (this.checkOrderable('BETWEEN', [left, low, high])) this.checkBetween(low, high);
      return { kind: 'between', operand: left, low, high };
    }
    if (this.isKeyword('IN')) {
      this.next();
      this.operators++;
      const list = this.argList(() => this.operand());
      if (list.length > MAX_IN_OPERANDS) {
        this.note('operand', `The IN operator is provided with too many operands; number of operands: ${list.length}`);
      }
      return { kind: 'in', operand: left, list };
    }
    this.fail();
  }

  /** An operand where a condition function is not allowed. */
  operand(): Operand {
    const term = this.term();
    if ('cond' in term) {
      this.note('misusedFunction', `The function is not allowed to be used this way in an expression; function: ${term.fn}`);
      return DUMMY_OPERAND;
    }
    return term.operand;
  }

  /** An operand, a (possibly parenthesized) operand, or a function call. */
  term(): Term {
    if (this.isPunct('(')) {
      const inner = this.parenthesized(() => this.term());
      // A parenthesized path goes on: `(a.b).c` is the path a.b.c.
      if ('operand' in inner && inner.operand.kind === 'path' && (this.isPunct('.') || this.isPunct('['))) {
        return { operand: { kind: 'path', path: this.pathTail([...inner.operand.path]) } };
      }
      return inner;
    }
    if (this.isFunctionCall()) return this.functionCall();
    if (this.peek().type === 'value') return { operand: { kind: 'value', value: this.value() } };
    return { operand: { kind: 'path', path: this.path() } };
  }

  functionCall(): Term {
    const nameTok = this.next();
    const name = nameTok.text;
    this.operators++;
    const args = this.argList(() => this.operand());
    const arity = CONDITION_FUNCTIONS[name];
    if (arity === undefined || !hasOwn(CONDITION_FUNCTIONS, name)) {
      this.note('unknownFunction', `Invalid function name; function: ${name}`);
      return { cond: DUMMY_CONDITION, fn: name };
    }
    if (args.length !== arity) {
      this.note('operand', `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`);
      return name === 'size' ? { operand: DUMMY_OPERAND } : { cond: DUMMY_CONDITION, fn: name };
    }
    const a0 = args[0]!;
    const a1 = args[1];
    if (a1 !== undefined) this.checkDistinct(name, a0, a1);
    const typeError = (type: string): void =>
      this.note('function', `Incorrect operand type for operator or function; operator or function: ${name}, operand type: ${type}`);
    switch (name) {
      case 'size': {
        if (a0.kind === 'size') {
          typeError('N');
          return { operand: DUMMY_OPERAND };
        }
        if (a0.kind === 'value') {
          // The size of a literal is known now.
          const size = sizeOf(a0.value);
          if (size === undefined) typeError(typeOf(a0.value));
          return { operand: size === undefined ? DUMMY_OPERAND : { kind: 'value', value: { N: String(size) } } };
        }
        return { operand: { kind: 'size', path: a0.path } };
      }
      case 'attribute_exists':
      case 'attribute_not_exists': {
        if (a0.kind !== 'path') {
          this.note('function', `Operator or function requires a document path; operator or function: ${name}`);
          return { cond: DUMMY_CONDITION, fn: name };
        }
        return { cond: { kind: name, path: a0.path }, fn: name };
      }
      case 'attribute_type': {
        if (a0.kind !== 'path') {
          this.note('function', `Operator or function requires a document path; operator or function: ${name}`);
          return { cond: DUMMY_CONDITION, fn: name };
        }
        if (a1!.kind === 'size') {
          typeError('N');
        } else if (a1!.kind !== 'value') {
          typeError('{NS,SS,L,BS,N,M,B,BOOL,NULL,S}');
        } else if (typeOf(a1!.value) !== 'S') {
          typeError(typeOf(a1!.value));
        } else {
          const tn = (a1!.value as { S: string }).S;
          if (!(TYPE_TAGS as readonly string[]).includes(tn)) {
            this.note('function', `Invalid attribute type name found; type: ${tn}, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}`);
          }
        }
        return { cond: { kind: 'attribute_type', path: a0.path, type: a1! }, fn: name };
      }
      case 'begins_with': {
        for (const a of args) {
          if (a.kind === 'value' && !['S', 'B'].includes(typeOf(a.value))) typeError(typeOf(a.value));
          else if (a.kind === 'size') typeError('N');
        }
        return { cond: { kind: 'begins_with', operand: a0, prefix: a1! }, fn: name };
      }
      default: // contains
        return { cond: { kind: 'contains', operand: a0, needle: a1! }, fn: name };
    }
  }

  checkDistinct(op: string, a: Operand, b: Operand): void {
    if (a.kind !== 'path' || b.kind !== 'path' || a.path.length !== b.path.length) return;
    for (let i = 0; i < a.path.length; i++) if (a.path[i] !== b.path[i]) return;
    this.note('distinct', `The first operand must be distinct from the remaining operands for this operator or function; operator: ${op}, first operand: ${pathString(a.path)}`);
  }

  /** Only strings, numbers and binaries have an order: a literal of another type makes
   *  the expression invalid (a path to one merely fails the comparison, at apply). */
  checkOrderable(op: string, operands: Operand[]): boolean {
    for (const o of operands) {
      if (o.kind !== 'value') continue;
      const type = typeOf(o.value);
      if (type !== 'S' && type !== 'N' && type !== 'B') {
        this.note('function', `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${type}`);
        return false;
      }
    }
    return true;
  }

  checkBetween(low: Operand, high: Operand): void {
    if (low.kind !== 'value' || high.kind !== 'value') return;
    const t1 = typeOf(low.value);
    const t2 = typeOf(high.value);
    const bounds = `lower bound operand: AttributeValue: ${shortValue(low.value)}, upper bound operand: AttributeValue: ${shortValue(high.value)}`;
    if (t1 !== t2) {
      this.note('function', `The BETWEEN operator requires same data type for lower and upper bounds; ${bounds}`);
    } else if (compareValues(low.value, high.value) === 1) {
      this.note('function', `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; ${bounds}`);
    }
  }

  // ---- updates -------------------------------------------------------------------------

  update(): UpdateAst {
    const ast: UpdateAst = { set: [], remove: [], add: [], delete: [] };
    const seen = new Set<string>();
    const paths: Path[] = [];
    const addPath = (p: Path): void => {
      this.checkOverlap(paths, p);
      paths.push(p);
    };
    do {
      const t = this.peek();
      const section = t.type === 'ident' ? t.text.toUpperCase() : '';
      if (!UPDATE_KEYWORDS.has(section)) this.fail();
      this.next();
      if (seen.has(section)) this.note('section', `The "${section}" section can only be used once in an update expression;`);
      seen.add(section);
      for (;;) {
        const path = this.path();
        addPath(path);
        if (section === 'SET') {
          this.expectPunct('=');
          ast.set.push({ path, value: this.setValue() } satisfies SetAction);
        } else if (section === 'REMOVE') {
          ast.remove.push(path);
        } else {
          const value = this.value();
          this.checkAddDeleteOperand(section, value);
          const action: ValueAction = { path, value };
          (section === 'ADD' ? ast.add : ast.delete).push(action);
        }
        this.operators++;
        if (!this.isPunct(',')) break;
        this.next();
      }
    } while (this.peek().type !== 'eof');
    return ast;
  }

  checkAddDeleteOperand(section: string, value: AttributeValue): void {
    const t = typeOf(value);
    const long = LONG_TYPE_NAMES[t];
    if (long !== undefined && !(section === 'ADD' && t === 'N')) {
      this.note('operand', `Incorrect operand type for operator or function; operator: ${section}, operand type: ${long}`);
    }
  }

  setValue(): UpdateValue {
    const left = this.updateOperand();
    if (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next().text;
      this.operators++;
      const right = this.updateOperand();
      for (const v of [left, right]) {
        if (v.kind === 'value' && typeOf(v.value) !== 'N') {
          this.note('function', `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${typeOf(v.value)}`);
        }
      }
      return { kind: op === '+' ? 'plus' : 'minus', left, right };
    }
    return left;
  }

  updateOperand(): UpdateValue {
    if (this.isPunct('(')) return this.parenthesized(() => this.setValue());
    if (this.isFunctionCall()) return this.updateFunction();
    if (this.peek().type === 'value') return { kind: 'value', value: this.value() };
    return { kind: 'path', path: this.path() };
  }

  updateFunction(): UpdateValue {
    const name = this.next().text;
    this.operators++;
    const args = this.argList(() => this.updateOperand());
    const arity = UPDATE_FUNCTIONS[name];
    const dummy: UpdateValue = { kind: 'path', path: ['_'] };
    if (arity === undefined || !hasOwn(UPDATE_FUNCTIONS, name)) {
      this.note('unknownFunction', `Invalid function name; function: ${name}`);
      return dummy;
    }
    if (args.length !== arity) {
      this.note('function', `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`);
      return dummy;
    }
    const [a0, a1] = args as [UpdateValue, UpdateValue];
    if (name === 'if_not_exists') {
      if (a0.kind !== 'path') {
        this.note('function', 'Operator or function requires a document path; operator or function: if_not_exists');
        return dummy;
      }
      return { kind: 'if_not_exists', path: a0.path, fallback: a1 };
    }
    for (const a of args) {
      if (a.kind === 'value' && typeOf(a.value) !== 'L') {
        this.note('function', `Incorrect operand type for operator or function; operator or function: list_append, operand type: ${typeOf(a.value)}`);
      }
    }
    return { kind: 'list_append', left: a0, right: a1 };
  }

  /** DynamoDB's overlap/conflict rule between a new path and the ones seen before. */
  checkOverlap(paths: Path[], p: Path): void {
    for (const q of paths) {
      const n = Math.min(p.length, q.length);
      let i = 0;
      for (; i < n; i++) {
        if (typeof p[i] !== typeof q[i]) {
          this.note('pathConflict', `Two document paths conflict with each other; must remove or rewrite one of these paths; path one: ${pathString(q)}, path two: ${pathString(p)}`);
          break;
        }
        if (p[i] !== q[i]) break;
      }
      if (i === n) {
        this.note('pathOverlap', `Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${pathString(q)}, path two: ${pathString(p)}`);
      }
    }
  }

  // ---- projections ---------------------------------------------------------------------

  projection(): Path[] {
    const paths: Path[] = [];
    for (;;) {
      const p = this.path();
      this.checkOverlap(paths, p);
      paths.push(p);
      if (!this.isPunct(',')) break;
      this.next();
    }
    return paths;
  }
}

function precheck(expression: string, label: ExpressionLabel): void {
  if (typeof expression !== 'string') throw validationError(`Invalid ${label}: The expression can not be empty;`);
  const bytes = utf8Length(expression);
  if (bytes > MAX_EXPRESSION_BYTES) {
    throw validationError(`Invalid ${label}: Expression size has exceeded the maximum allowed size; expression size: ${bytes}`);
  }
  if (expression.trim() === '') throw validationError(`Invalid ${label}: The expression can not be empty;`);
}

export function parseConditionWithLabel(expression: string, ctx: ExpressionContext, label: ExpressionLabel): ConditionAst {
  precheck(expression, label);
  const p = new Parser(expression, label, ctx, CONDITION_KEYWORDS);
  return p.run(() => {
    const c = p.condition();
    p.expectEnd();
    return c;
  }, CONDITION_ERROR_ORDER);
}

export function parseUpdateExpression(expression: string, ctx: ExpressionContext): UpdateAst {
  precheck(expression, 'UpdateExpression');
  const p = new Parser(expression, 'UpdateExpression', ctx, UPDATE_KEYWORDS);
  return p.run(() => {
    const u = p.update();
    p.expectEnd();
    return u;
  }, UPDATE_ERROR_ORDER);
}

export function parseProjectionExpression(expression: string, ctx: ExpressionContext): Path[] {
  precheck(expression, 'ProjectionExpression');
  const p = new Parser(expression, 'ProjectionExpression', ctx, NO_KEYWORDS);
  return p.run(() => {
    const r = p.projection();
    p.expectEnd();
    return r;
  }, PROJECTION_ERROR_ORDER);
}
