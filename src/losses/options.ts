// Option readers the losses share, on top of validate.ts: smp's nullable ignore index, class
// lists and class weights (refused in binary mode, as smp refuses them), reductions.
import { checkFinite, invalidParameterError, type OptionReader } from '../validate.js';
import type { LossMode } from './mode.js';

/** An integer label to ignore, or null for none; `fallback` applies when the option is absent. */
export function readIgnoreIndex(o: OptionReader<object>, fallback: number | null): number | null {
  const v = o.get('ignoreIndex');
  if (v === null) return null;
  if (v === undefined && fallback === null) return null;
  return o.int('ignoreIndex', fallback ?? undefined, {});
}

/** A number in `range`, or null (smp's Optional[float]). */
export function readNullableNumber(
  o: OptionReader<object>,
  name: string,
  fallback: number | null,
  range: { min?: number; max?: number; exclusive?: 'min' | 'max' | 'both' },
): number | null {
  const v = o.get(name);
  if (v === null || (v === undefined && fallback === null)) return null;
  return o.number(name, fallback ?? undefined, range);
}

/** smp's `classes`: the channels that count, as non-negative integers; not in binary mode. */
export function readClasses(o: OptionReader<object>, mode: LossMode): number[] | null {
  const v = o.get('classes');
  if (v === undefined || v === null) return null;
  if (mode === 'binary') throw invalidParameterError(o.where, 'classes', 'unset in binary mode (it has one channel)', v);
  return o.intList('classes', undefined, { min: 0 });
}

/** smp's `class_weights`: one non-negative weight per channel, not all zero; not in binary mode. */
export function readClassWeights(o: OptionReader<object>, mode: LossMode): number[] | null {
  const v = o.get('classWeights');
  if (v === undefined || v === null) return null;
  if (mode === 'binary') throw invalidParameterError(o.where, 'classWeights', 'unset in binary mode (it has one channel)', v);
  const expected = 'a non-empty array of non-negative numbers, not all zero (one per channel)';
  if (!Array.isArray(v) || v.length === 0) throw invalidParameterError(o.where, 'classWeights', expected, v);
  const weights = v.map((w, i) => checkFinite(o.where, `classWeights[${i}]`, w, { min: 0 }));
  if (weights.every((w) => w === 0)) throw invalidParameterError(o.where, 'classWeights', expected, v, RangeError);
  return weights;
}

/** The number of channels that per-class options (classes, classWeights) must fit. */
export function checkPerClass(where: string, numClasses: number, classes: number[] | null, classWeights: number[] | null): void {
  if (classes !== null) {
    const bad = classes.find((c) => c >= numClasses);
    if (bad !== undefined) {
      throw new RangeError(`${where}: classes must be channel indices below ${numClasses} (yPred has ${numClasses} channels), got ${bad}`);
    }
  }
  if (classWeights !== null && classWeights.length !== numClasses) {
    throw new RangeError(
      `${where}: classWeights must have one weight per channel (${numClasses}, yPred's dimension 1), got ${classWeights.length}`,
    );
  }
}
