/**
 * DynamoDB numbers as exact decimals, never floats.
 *
 * DynamoDB's Number holds up to 38 significant decimal digits with a magnitude between
 * 1E-130 and 9.9999999999999999999999999999999999999E+125 (positive or negative), or 0.
 * It does not keep the spelling it was given: "1.0", "01", "1e0" and "+1" are all stored
 * and returned as "1", "-0" as "0", and exponents are expanded ("1.5E2" → "150"), so the
 * canonical text here is plain decimal notation with no leading or trailing zeros.
 *
 * Arithmetic (`SET a = a + :v`, `ADD`) is exact on BigInt-scaled digits; a result that
 * needs more than 38 significant digits or leaves the range is an error, as in DynamoDB.
 */
import { validationError } from './errors.js';

/**
 * A parsed number: value = sign × digits × 10^exponent.
 * Invariant: `digits` has no leading or trailing zeros; zero is `{ sign: 0, digits: '', exponent: 0 }`.
 */
export interface DecimalNumber {
  sign: -1 | 0 | 1;
  digits: string;
  exponent: number;
}

export const MAX_NUMBER_DIGITS = 38;
/** Power of ten of the leading digit of the largest magnitude: 9.99…E+125. */
export const MAX_NUMBER_ADJUSTED_EXPONENT = 125;
/** Power of ten of the leading digit of the smallest non-zero magnitude: 1E-130. */
export const MIN_NUMBER_ADJUSTED_EXPONENT = -130;

export const NUMBER_NOT_NUMERIC_MESSAGE = 'The parameter cannot be converted to a numeric value';
export const NUMBER_PRECISION_MESSAGE = 'Attempting to store more than 38 significant digits in a Number';
export const NUMBER_OVERFLOW_MESSAGE = 'Number overflow. Attempting to store a number with magnitude larger than supported range';
export const NUMBER_UNDERFLOW_MESSAGE = 'Number underflow. Attempting to store a number with magnitude smaller than supported range';

const ZERO: DecimalNumber = Object.freeze({ sign: 0, digits: '', exponent: 0 }) as DecimalNumber;

/** Exponents beyond this are out of range whatever the digits; keeps parseInt exact. */
const EXPONENT_CLAMP = 1_000_000;

function notNumeric(text: string): never {
  // DynamoDB appends the offending text, except when it is empty.
  throw validationError(text === '' ? NUMBER_NOT_NUMERIC_MESSAGE : `${NUMBER_NOT_NUMERIC_MESSAGE}: ${text}`);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Parses DynamoDB number text without checking its range or precision.
 * Accepted syntax (Java BigDecimal's, which DynamoDB uses): optional sign, digits with an
 * optional point (".5" and "5." are fine), optional exponent `e`/`E` with optional sign.
 * No spaces, no "NaN"/"Infinity", no hex.
 */
function parseUnchecked(text: string): DecimalNumber {
  if (typeof text !== 'string') notNumeric(String(text));
  const n = text.length;
  let i = 0;
  let negative = false;
  if (i < n && (text.charCodeAt(i) === 43 /* + */ || text.charCodeAt(i) === 45 /* - */)) {
    negative = text.charCodeAt(i) === 45;
    i++;
  }
  const intStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && text.charCodeAt(i) === 46 /* . */) {
    i++;
    fracStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) notNumeric(text);
  let exp = 0;
  if (i < n && (text.charCodeAt(i) === 101 /* e */ || text.charCodeAt(i) === 69 /* E */)) {
    i++;
    let expNegative = false;
    if (i < n && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) {
      expNegative = text.charCodeAt(i) === 45;
      i++;
    }
    const expStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    if (i === expStart) notNumeric(text);
    // Skip leading zeros, then clamp: anything this large is out of range anyway.
    let j = expStart;
    while (j < i - 1 && text.charCodeAt(j) === 48) j++;
    exp = i - j > 9 ? EXPONENT_CLAMP : Number.parseInt(text.slice(j, i), 10);
    if (expNegative) exp = -exp;
  }
  if (i !== n) notNumeric(text);

  // Significant digits: int part then fraction, leading and trailing zeros stripped.
  const all = text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd);
  let lead = 0;
  while (lead < all.length && all.charCodeAt(lead) === 48) lead++;
  if (lead === all.length) return ZERO;
  let trail = all.length;
  while (all.charCodeAt(trail - 1) === 48) trail--;
  const digits = all.slice(lead, trail);
  // all × 10^(exp - fracLen); dropping `all.length - trail` trailing zeros raises the exponent.
  const exponent = exp - (fracEnd - fracStart) + (all.length - trail);
  return { sign: negative ? -1 : 1, digits, exponent };
}

/** Throws DynamoDB's error when `d` needs more than 38 digits or is out of range. */
export function checkNumberRange(d: DecimalNumber): void {
  if (d.sign === 0) return;
  const adjusted = d.digits.length - 1 + d.exponent;
  if (adjusted > MAX_NUMBER_ADJUSTED_EXPONENT) throw validationError(NUMBER_OVERFLOW_MESSAGE);
  if (adjusted < MIN_NUMBER_ADJUSTED_EXPONENT) throw validationError(NUMBER_UNDERFLOW_MESSAGE);
  if (d.digits.length > MAX_NUMBER_DIGITS) throw validationError(NUMBER_PRECISION_MESSAGE);
}

/**
 * Parses and checks DynamoDB number text. Throws ValidationException with DynamoDB's
 * message for text that is not a number, more than 38 significant digits, or a magnitude
 * outside 1E-130..9.99…E+125.
 */
export function parseNumber(text: string): DecimalNumber {
  const d = parseUnchecked(text);
  checkNumberRange(d);
  return d;
}

/** Plain decimal text of `d` ("150", "-0.0015", "0"); the form DynamoDB returns. */
export function formatDecimal(d: DecimalNumber): string {
  if (d.sign === 0) return '0';
  const { digits, exponent } = d;
  let body: string;
  if (exponent >= 0) {
    body = exponent === 0 ? digits : digits + '0'.repeat(exponent);
  } else {
    const point = digits.length + exponent; // digits before the decimal point
    body = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  }
  return d.sign < 0 ? `-${body}` : body;
}

/** The normalized text DynamoDB stores and returns for `text` ("1.0" → "1", "1e2" → "100", "-0" → "0"). */
export function canonicalNumber(text: string): string {
  // Fast path: already-canonical small integers (the common case for counters and keys).
  const n = text.length;
  if (n > 0 && n <= 15) {
    let i = text.charCodeAt(0) === 45 ? 1 : 0;
    const first = text.charCodeAt(i);
    if (i < n && first >= 49 && first <= 57) {
      i++;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      if (i === n) return text;
    } else if (text === '0') {
      return text;
    }
  }
  return formatDecimal(parseNumber(text));
}

/** Power of ten of the leading digit; only meaningful for non-zero numbers. */
function adjustedExponent(d: DecimalNumber): number {
  return d.digits.length - 1 + d.exponent;
}

/** Exact numeric order of two parsed numbers. */
export function compareDecimals(a: DecimalNumber, b: DecimalNumber): -1 | 0 | 1 {
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  let magnitude: -1 | 0 | 1;
  const ea = adjustedExponent(a);
  const eb = adjustedExponent(b);
  if (ea !== eb) {
    magnitude = ea < eb ? -1 : 1;
  } else {
    // Same leading power: digit strings compare lexicographically, a prefix being smaller
    // (no trailing zeros, so a longer string is strictly larger).
    magnitude = a.digits === b.digits ? 0 : a.digits < b.digits ? -1 : 1;
  }
  if (magnitude === 0) return 0;
  return a.sign < 0 ? (-magnitude as -1 | 1) : magnitude;
}

/** Exact numeric order of two DynamoDB number texts (validated). */
export function compareNumbers(a: string, b: string): -1 | 0 | 1 {
  return compareDecimals(parseNumber(a), parseNumber(b));
}

/** True when the texts denote the same number ("1" and "1.00"). */
export function numbersEqual(a: string, b: string): boolean {
  return compareNumbers(a, b) === 0;
}

function toScaledBigInt(d: DecimalNumber, exponent: number): bigint {
  if (d.sign === 0) return 0n;
  const v = BigInt(d.digits) * 10n ** BigInt(d.exponent - exponent);
  return d.sign < 0 ? -v : v;
}

/** The DecimalNumber for `value × 10^exponent`, normalized (trailing zeros moved to the exponent). */
function fromScaledBigInt(value: bigint, exponent: number): DecimalNumber {
  if (value === 0n) return ZERO;
  const negative = value < 0n;
  let text = (negative ? -value : value).toString();
  let trail = text.length;
  while (text.charCodeAt(trail - 1) === 48) trail--;
  const exp = exponent + (text.length - trail);
  text = text.slice(0, trail);
  return { sign: negative ? -1 : 1, digits: text, exponent: exp };
}

/**
 * Exact sum of two parsed numbers, checked like a stored value. A result that needs more
 * than 38 significant digits is an error: DynamoDB answers such an update (e.g. 1E50 + 1)
 * with its overflow message rather than rounding.
 */
export function addDecimals(a: DecimalNumber, b: DecimalNumber): DecimalNumber {
  if (a.sign === 0) return b;
  if (b.sign === 0) return a;
  const exponent = Math.min(a.exponent, b.exponent);
  const r = fromScaledBigInt(toScaledBigInt(a, exponent) + toScaledBigInt(b, exponent), exponent);
  checkArithmeticResult(r);
  return r;
}

function checkArithmeticResult(d: DecimalNumber): void {
  if (d.sign === 0) return;
  const adjusted = adjustedExponent(d);
  if (adjusted < MIN_NUMBER_ADJUSTED_EXPONENT) throw validationError(NUMBER_UNDERFLOW_MESSAGE);
  if (adjusted > MAX_NUMBER_ADJUSTED_EXPONENT || d.digits.length > MAX_NUMBER_DIGITS) {
    throw validationError(NUMBER_OVERFLOW_MESSAGE);
  }
}

export function negateDecimal(d: DecimalNumber): DecimalNumber {
  return d.sign === 0 ? d : { sign: d.sign < 0 ? 1 : -1, digits: d.digits, exponent: d.exponent };
}

/** Exact `a + b` of DynamoDB number texts, as canonical text. */
export function addNumbers(a: string, b: string): string {
  return formatDecimal(addDecimals(parseNumber(a), parseNumber(b)));
}

/** Exact `a - b` of DynamoDB number texts, as canonical text. */
export function subtractNumbers(a: string, b: string): string {
  return formatDecimal(addDecimals(parseNumber(a), negateDecimal(parseNumber(b))));
}

/** Whether `text` is a valid DynamoDB number (syntax, precision and range). */
export function isValidNumber(text: string): boolean {
  try {
    parseNumber(text);
    return true;
  } catch {
    return false;
  }
}
