// The one way segkit checks what a caller passes, after sharp's lib/is.js: predicates, one
// formatter for values in messages, one error constructor, and readers for option objects.
// It imports nothing, so every layer (torch/, models/, data/, train/, infer/, cli/) uses it.
//
// Every message has one shape, `<where>: <name> must be <expected>, got <actual>`, where
// <where> is the function or class the user called ('Unet', 'nn.Conv2d', 'torch.sum').
// Error classes follow Node's own validators (ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE are
// TypeErrors, ERR_OUT_OF_RANGE a RangeError):
// - TypeError: a value of the wrong kind, an unknown option key, a name outside its set of
//   names ('mirror' for a padding mode);
// - RangeError: a number outside its range or its set of numbers (an integer option given 2.5,
//   an output stride of 32 where 8 or 16 are allowed, an array of the wrong length).
// The checks cost one or two comparisons when the value is good: messages are built only to throw.

/** Predicates: each answers one question about a value and never throws. */
export const is = {
  defined: (v: unknown): boolean => v !== undefined && v !== null,
  object: (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v),
  number: (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v),
  integer: (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v),
  positiveInteger: (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0,
  string: (v: unknown): v is string => typeof v === 'string',
  bool: (v: unknown): v is boolean => typeof v === 'boolean',
  fn: (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function',
  inArray: <T>(v: unknown, list: readonly T[]): v is T => list.includes(v as T),
  inRange: (v: number, min: number, max: number): boolean => v >= min && v <= max,
};

/** A value as a message shows it: strings quoted, arrays listed, objects by their class. */
export function show(v: unknown, depth = 0): string {
  if (typeof v === 'string') {
    const cut = v.length > 80 ? `${v.slice(0, 77)}...` : v;
    return `'${cut.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  }
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return v.name ? `function ${v.name}` : 'a function';
  if (typeof v === 'symbol') return v.toString();
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (depth > 1) return `an array of ${v.length}`;
    const items = v.slice(0, 16).map((x) => show(x, depth + 1));
    return `[${items.join(', ')}${v.length > 16 ? `, ... (${v.length} in all)` : ''}]`;
  }
  if (typeof v === 'object') {
    if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
    const name = (v as object).constructor?.name;
    return !name || name === 'Object' ? 'an object' : `a ${name}`;
  }
  return String(v);
}

type ErrorClass = TypeErrorConstructor | RangeErrorConstructor;

/**
 * The error for a parameter that is not what `where` expects: a TypeError, or the `kind` given
 * (RangeError for a number out of range). `expected` is a phrase: 'a positive integer'.
 */
export function invalidParameterError(where: string, name: string, expected: string, actual: unknown, kind: ErrorClass = TypeError): Error {
  return new kind(`${where}: ${name} must be ${expected}, got ${show(actual)}`);
}

/** `invalidParameterError` for a number outside its range: always a RangeError. */
export function outOfRangeError(where: string, name: string, expected: string, actual: unknown): RangeError {
  return invalidParameterError(where, name, expected, actual, RangeError) as RangeError;
}

/** A list of choices as words: `8 or 16`, `one of 'add', 'cat', 'sum'`. */
export function describeChoices(choices: readonly unknown[]): string {
  const shown = choices.map((c) => show(c));
  if (shown.length === 1) return shown[0]!;
  if (shown.length === 2) return `${shown[0]} or ${shown[1]}`;
  return `one of ${shown.join(', ')}`;
}

/** The key the user probably meant: `encoder_name` -> `encoderName`, `keepDim` -> `keepdim`. */
function suggest(key: string, known: readonly string[]): string | undefined {
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const lower = key.toLowerCase().replace(/_/g, '');
  return (
    known.find((k) => k === camel) ??
    known.find((k) => k.toLowerCase().replace(/_/g, '') === lower) ??
    known.find((k) => editDistance(k, key) <= Math.min(2, Math.floor(key.length / 4))) ??
    (key.length >= 3 ? known.find((k) => k.startsWith(key) || key.startsWith(k)) : undefined)
  );
}

/** Levenshtein distance, for typo suggestions. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Checks that `options` is undefined or a plain object whose keys (with a defined value) are all
 * in `known`, so that a typo or a Python spelling is an error instead of a silent default.
 * Returns the object ({} for undefined).
 */
export function checkOptions<T extends object>(where: string, options: T | undefined, known: readonly string[], what = 'options'): T {
  if (options === undefined) return EMPTY as T;
  if (!is.object(options)) throw invalidParameterError(where, what, 'an object', options);
  for (const k in options) {
    if (!known.includes(k) && (options as Record<string, unknown>)[k] !== undefined) throw unknownOptions(where, options, known, what);
  }
  return options;
}

const EMPTY = Object.freeze({});

function unknownOptions(where: string, options: object, known: readonly string[], what: string): TypeError {
  const unknown = Object.keys(options).filter((k) => !known.includes(k) && (options as Record<string, unknown>)[k] !== undefined);
  const hint = unknown.map((k) => suggest(k, known)).filter((k) => k !== undefined);
  const meant = hint.length > 0 ? `; did you mean ${hint.map((k) => `'${k}'`).join(', ')}?` : '';
  const list = unknown.map((k) => `'${k}'`).join(', ');
  const prefix = what === 'options' ? '' : `${what}: `;
  return new TypeError(
    `${where}: ${prefix}unknown option${unknown.length > 1 ? 's' : ''} ${list} (known: ${known.join(', ') || 'none'})${meant}`,
  );
}

/** Range of a numeric check; bounds are inclusive unless `exclusive` names them. */
export interface NumberRange {
  min?: number;
  max?: number;
  /** Which bounds are open: 'min', 'max' or 'both'. */
  exclusive?: 'min' | 'max' | 'both';
}

function describeRange(noun: 'an integer' | 'a number', r: NumberRange): string {
  const { min, max } = r;
  const openMin = r.exclusive === 'min' || r.exclusive === 'both';
  const openMax = r.exclusive === 'max' || r.exclusive === 'both';
  const plural = noun === 'an integer' ? 'integer' : 'number';
  if (min === undefined && max === undefined) return noun;
  if (max === undefined) {
    if (min === 0) return openMin ? `a positive ${plural}` : `a non-negative ${plural}`;
    if (min === 1 && noun === 'an integer' && !openMin) return 'a positive integer';
    return `${noun} ${openMin ? '>' : '>='} ${min}`;
  }
  if (min === undefined) return `${noun} ${openMax ? '<' : '<='} ${max}`;
  if (!openMin && !openMax) return `${noun} from ${min} to ${max}`;
  return `${noun} in ${openMin ? '(' : '['}${min}, ${max}${openMax ? ')' : ']'}`;
}

function inRange(v: number, r: NumberRange): boolean {
  const openMin = r.exclusive === 'min' || r.exclusive === 'both';
  const openMax = r.exclusive === 'max' || r.exclusive === 'both';
  if (r.min !== undefined && (openMin ? !(v > r.min) : !(v >= r.min))) return false;
  if (r.max !== undefined && (openMax ? !(v < r.max) : !(v <= r.max))) return false;
  return true;
}

/** A number in `range`: TypeError for a non-number, RangeError for NaN or a value outside. */
export function checkNumber(where: string, name: string, v: unknown, range: NumberRange = NO_RANGE): number {
  if (typeof v === 'number' && !Number.isNaN(v) && inRange(v, range)) return v;
  const expected = describeRange('a number', range);
  throw typeof v === 'number' ? outOfRangeError(where, name, expected, v) : invalidParameterError(where, name, expected, v);
}

const NO_RANGE: NumberRange = Object.freeze({});

/** A finite number in `range`. */
export function checkFinite(where: string, name: string, v: unknown, range: NumberRange = NO_RANGE): number {
  if (typeof v === 'number' && Number.isFinite(v) && inRange(v, range)) return v;
  const expected = describeRange('a number', range).replace(/^a number/, 'a finite number');
  throw typeof v === 'number' ? outOfRangeError(where, name, expected, v) : invalidParameterError(where, name, expected, v);
}

/** An integer in `range`: TypeError for a non-number, RangeError for 2.5 or a value outside. */
export function checkInt(where: string, name: string, v: unknown, range: NumberRange = NO_RANGE): number {
  if (typeof v === 'number' && Number.isInteger(v) && inRange(v, range)) return v;
  const expected = describeRange('an integer', range);
  throw typeof v === 'number' ? outOfRangeError(where, name, expected, v) : invalidParameterError(where, name, expected, v);
}

export function checkBool(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw invalidParameterError(where, name, 'true or false', v);
  return v;
}

export function checkString(where: string, name: string, v: unknown, expected = 'a string'): string {
  if (typeof v !== 'string') throw invalidParameterError(where, name, expected, v);
  return v;
}

/**
 * One of `choices`. A number outside a set of numbers is a RangeError; anything else that is not
 * a choice (an unknown name, a wrong kind) is a TypeError.
 */
export function checkChoice<T>(where: string, name: string, v: unknown, choices: readonly T[]): T {
  if (choices.includes(v as T)) return v as T;
  const numeric = typeof v === 'number' && choices.every((c) => typeof c === 'number');
  throw invalidParameterError(where, name, describeChoices(choices), v, numeric ? RangeError : TypeError);
}

/** What an integer list must look like. */
export interface IntListRule extends NumberRange {
  /** Exactly this many entries. */
  length?: number;
  /** Why the length is what it is, shown in the error ('one per decoder block'). */
  why?: string;
  /** Accept a single integer and repeat it `length` times (PyTorch's `_pair`). */
  scalar?: boolean;
  /** At least one entry (default true). */
  nonEmpty?: boolean;
}

/** An array of integers, each in the rule's range, of the rule's length. Returns a copy. */
export function checkIntList(where: string, name: string, v: unknown, rule: IntListRule = NO_RANGE): number[] {
  if (
    Array.isArray(v) &&
    (rule.length === undefined ? rule.nonEmpty === false || v.length > 0 : v.length === rule.length) &&
    v.every((x) => typeof x === 'number' && Number.isInteger(x) && inRange(x, rule))
  )
    return [...(v as number[])];
  const each = describeRange('an integer', rule);
  const plural = each.replace(/^an integer/, 'integers').replace(/^a (positive|non-negative) integer$/, '$1 integers');
  const count = rule.length === undefined ? 'an array of' : `an array of ${rule.length}`;
  const expected = `${rule.scalar ? `an integer or ` : ''}${count} ${plural}${rule.why ? ` (${rule.why})` : ''}`;
  if (rule.scalar && typeof v === 'number') {
    checkInt(where, name, v, rule);
    return new Array<number>(rule.length ?? 1).fill(v);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw invalidParameterError(where, name, expected, v);
  const badLength = rule.length !== undefined ? v.length !== rule.length : rule.nonEmpty !== false && v.length === 0;
  if (badLength || !v.every((x: number) => Number.isInteger(x) && inRange(x, rule))) throw outOfRangeError(where, name, expected, v);
  return [...(v as number[])];
}

/**
 * Reads one options object: checks its keys once, then each reader takes the option's name,
 * its default and its rule, and names `where` and the option in any error.
 *
 *   const o = readOptions('FPN', options, KEYS);
 *   const channels = o.int('decoderPyramidChannels', 256, { min: 1 });
 */
export class OptionReader<O extends object = Record<string, unknown>> {
  readonly values: O;

  constructor(
    readonly where: string,
    options: O | undefined,
    known: readonly string[],
    readonly prefix = '',
  ) {
    this.values = checkOptions(where, options, known, prefix ? prefix.replace(/\.$/, '') : 'options');
  }

  /** The raw value (undefined when absent). */
  get(name: string): unknown {
    return (this.values as Record<string, unknown>)[name];
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  private value<T>(name: string, fallback: T | undefined, check: (full: string, v: unknown) => T): T {
    const v = this.get(name);
    if (v === undefined && fallback !== undefined) return fallback;
    return check(this.prefix + name, v);
  }

  /** An integer; the range defaults to positive (channels, classes, sizes), `{}` allows any. */
  int(name: string, fallback?: number, range: NumberRange = { min: 1 }): number {
    return this.value(name, fallback, (n, v) => checkInt(this.where, n, v, range));
  }

  number(name: string, fallback?: number, range: NumberRange = {}): number {
    return this.value(name, fallback, (n, v) => checkNumber(this.where, n, v, range));
  }

  /** A probability in [0, 1] (PyTorch's rule for dropout). */
  probability(name: string, fallback?: number): number {
    return this.number(name, fallback, { min: 0, max: 1 });
  }

  bool(name: string, fallback?: boolean): boolean {
    return this.value(name, fallback, (n, v) => checkBool(this.where, n, v));
  }

  string(name: string, fallback?: string, expected?: string): string {
    return this.value(name, fallback, (n, v) => checkString(this.where, n, v, expected));
  }

  choice<T>(name: string, choices: readonly T[], fallback?: T): T {
    return this.value(name, fallback, (n, v) => checkChoice(this.where, n, v, choices));
  }

  /** An integer list; the rule defaults to positive entries, any length but empty. */
  intList(name: string, fallback?: readonly number[], rule: IntListRule = { min: 1 }): number[] {
    const v = this.get(name);
    if (v === undefined && fallback !== undefined) return checkIntList(this.where, this.prefix + name, fallback, rule);
    return checkIntList(this.where, this.prefix + name, v, rule);
  }

  /** A nested options object, read with its own keys (`auxParams.dropout` in messages). */
  nested<N extends object>(name: string, known: readonly string[]): OptionReader<N> | null {
    const v = this.get(name);
    if (v === undefined || v === null) return null;
    return new OptionReader<N>(this.where, v as N, known, `${this.prefix}${name}.`);
  }

  /** A value `accept` allows; when it refuses, the error says `expected` (a TypeError unless `kind` says otherwise). */
  custom<T>(name: string, fallback: T | undefined, accept: (v: unknown) => boolean, expected: string, kind: ErrorClass = TypeError): T {
    return this.value(name, fallback, (n, v) => {
      if (!accept(v)) throw invalidParameterError(this.where, n, expected, v, kind);
      return v as T;
    });
  }
}

/** `new OptionReader(where, options, known)`. */
export function readOptions<O extends object>(where: string, options: O | undefined, known: readonly string[]): OptionReader<O> {
  return new OptionReader<O>(where, options, known);
}
