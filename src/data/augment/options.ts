// Option readers shared by the transforms: albumentations' range options (a number stands for a
// range, the way its `to_tuple` reads it) and the draws from a Random that the ranges feed.
import { invalidParameterError, outOfRangeError, type OptionReader } from '../../validate.js';
import type { Random } from '../random.js';

/** A closed interval [low, high] an option draws from. */
export type Range = readonly [number, number];

/**
 * How a single number becomes a range, as albumentations reads it:
 * - 'symmetric': v -> [-v, v] (brightness_limit, rotate_limit, shift_limit);
 * - 'fromZero': v -> [0, v] (sigma_limit, blur_limit);
 * - 'aroundOne': v -> [max(0, 1 - v), 1 + v] (torchvision's ColorJitter factors);
 * - 'fixed': v -> [v, v];
 * - 'pair': only [low, high] is accepted.
 */
export type RangeForm = 'symmetric' | 'fromZero' | 'aroundOne' | 'fixed' | 'pair';

export interface RangeRule {
  form: RangeForm;
  /** Smallest allowed bound (inclusive unless `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  /** Largest allowed bound (inclusive). */
  max?: number;
  /** Bounds must be integers. */
  integer?: boolean;
}

function describe(rule: RangeRule): string {
  const kind = rule.integer ? 'integers' : 'numbers';
  const lo = rule.min === undefined ? '' : `${rule.exclusiveMin ? '>' : '>='} ${rule.min}`;
  const hi = rule.max === undefined ? '' : `<= ${rule.max}`;
  const bounds = [lo, hi].filter((s) => s !== '').join(' and ');
  const pair = `[low, high] with low <= high${bounds ? `, both ${bounds}` : ''}`;
  if (rule.form === 'pair') return `an array of 2 ${kind} ${pair}`;
  return `a ${rule.integer ? 'non-negative integer' : 'number'} or an array of 2 ${kind} ${pair}`;
}

function inBounds(v: number, rule: RangeRule): boolean {
  if (!Number.isFinite(v) || (rule.integer && !Number.isInteger(v))) return false;
  if (rule.min !== undefined && (rule.exclusiveMin ? !(v > rule.min) : !(v >= rule.min))) return false;
  return rule.max === undefined || v <= rule.max;
}

/** Reads a range option: a number (read by `rule.form`) or [low, high]; the error names the transform and option. */
export function readRange(o: OptionReader<object>, name: string, fallback: Range, rule: RangeRule): Range {
  const v = o.get(name);
  if (v === undefined) return fallback;
  const expected = describe(rule);
  let range: [number, number];
  if (typeof v === 'number' && rule.form !== 'pair') {
    if (!Number.isFinite(v) || ((rule.form === 'symmetric' || rule.form === 'aroundOne') && v < 0))
      throw outOfRangeError(o.where, name, expected, v);
    if (rule.form === 'symmetric') range = [-v, v];
    else if (rule.form === 'fromZero') range = [0, v];
    else if (rule.form === 'aroundOne') range = [Math.max(0, 1 - v), 1 + v];
    else range = [v, v];
  } else if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
    range = [v[0], v[1]];
  } else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) {
    throw outOfRangeError(o.where, name, expected, v);
  } else {
    throw invalidParameterError(o.where, name, expected, v);
  }
  if (!(range[0] <= range[1] && inBounds(range[0], rule) && inBounds(range[1], rule))) {
    throw outOfRangeError(o.where, name, expected, typeof v === 'number' ? `${v} (read as [${range.join(', ')}])` : v);
  }
  return range;
}

/** Reads an array of finite numbers, one per channel (or one for all); `positive` refuses zero and below. */
export function readNumbers(o: OptionReader<object>, name: string, fallback: readonly number[], positive = false): number[] {
  const v = o.get(name) ?? fallback;
  const expected = `a number or a non-empty array of ${positive ? 'positive ' : ''}finite numbers`;
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'number'))
    throw invalidParameterError(o.where, name, expected, v);
  for (const x of list) {
    if (!Number.isFinite(x) || (positive && !(x > 0))) throw outOfRangeError(o.where, name, expected, v);
  }
  return [...list];
}

/** The probability `p` of a transform, albumentations' default when absent. */
export function readP(o: OptionReader<object>, fallback: number): number {
  return o.probability('p', fallback);
}

/** A float in [low, high] (Python's random.uniform). */
export function uniform(random: Random, range: Range): number {
  return range[0] + (range[1] - range[0]) * random.next();
}

/** An integer in [low, high], both included (Python's random.randint). */
export function randint(random: Random, low: number, high: number): number {
  return low + random.int(high - low + 1);
}

/** The index drawn with probability weights[i] / sum(weights). */
export function weightedChoice(random: Random, weights: readonly number[], total: number): number {
  let u = random.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  // Rounding can leave u a hair above 0 after the last weight: the last non-zero weight wins.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}
