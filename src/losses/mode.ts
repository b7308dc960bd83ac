// smp's three loss modes and the shapes each one accepts. Every loss checks its inputs here
// before computing, so a wrong target shape or dtype is one clear error naming the loss and
// the mode instead of a libtorch broadcast error deep inside the computation.
import { Tensor } from '../torch/index.js';
import { checkChoice, invalidParameterError, outOfRangeError } from '../validate.js';

/**
 * - 'binary': one foreground class; yPred (N, 1, H, W), yTrue (N, 1, H, W) or (N, H, W) of 0/1.
 * - 'multiclass': C exclusive classes; yPred (N, C, H, W), yTrue (N, H, W) integer class indices.
 * - 'multilabel': C independent channels; yPred and yTrue (N, C, H, W), yTrue 0/1.
 */
export type LossMode = 'binary' | 'multiclass' | 'multilabel';

export const BINARY_MODE = 'binary' as const;
export const MULTICLASS_MODE = 'multiclass' as const;
export const MULTILABEL_MODE = 'multilabel' as const;
export const LOSS_MODES: readonly LossMode[] = [BINARY_MODE, MULTICLASS_MODE, MULTILABEL_MODE];

/** A mode name: TypeError for anything else. */
export function checkMode(where: string, mode: unknown): LossMode {
  return checkChoice(where, 'mode', mode, LOSS_MODES);
}

const FLOATS = new Set(['float32', 'float64', 'float16', 'bfloat16']);
const INTEGERS = new Set(['int64', 'int32', 'int16', 'int8', 'uint8']);

export function isFloating(t: Tensor): boolean {
  return FLOATS.has(t.dtype);
}

function shown(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A live Tensor argument. */
export function checkTensor(where: string, name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw invalidParameterError(where, name, 'a Tensor', v);
  if (v.isDisposed) throw new Error(`${where}: ${name} is a disposed Tensor`);
  return v;
}

/** yPred as logits or probabilities: a floating tensor with a batch dimension (and a class dimension if `classDim`). */
export function checkPrediction(where: string, yPred: unknown, classDim: boolean): Tensor {
  const p = checkTensor(where, 'yPred', yPred);
  if (!isFloating(p)) throw invalidParameterError(where, 'yPred', 'a floating point tensor of logits or probabilities', p.dtype);
  const min = classDim ? 2 : 1;
  if (p.ndim < min) {
    throw outOfRangeError(where, 'yPred.shape', classDim ? '(N, C, ...) with at least 2 dimensions' : '(N, ...)', [...p.shape]);
  }
  return p;
}

/** A shape without its dimension 1 when that has size 1: binary targets may carry the channel or not. */
function withoutUnitChannel(shape: readonly number[]): readonly number[] {
  return shape.length >= 2 && shape[1] === 1 ? [shape[0]!, ...shape.slice(2)] : shape;
}

/** Binary targets may carry yPred's channel of size 1 or not, and yPred likewise. */
function binaryShapesMatch(p: readonly number[], t: readonly number[]): boolean {
  const key = t.join();
  return key === p.join() || key === withoutUnitChannel(p).join() || withoutUnitChannel(t).join() === p.join();
}

/** yTrue of class indices for yPred (N, C, ...): yPred's shape without `classDim`, an integer dtype. */
export function checkClassTarget(where: string, yPred: Tensor, yTrue: unknown, what = ' in multiclass mode', classDim = 1): Tensor {
  const t = checkTensor(where, 'yTrue', yTrue);
  const p = yPred.shape;
  const expected = p.filter((_, i) => i !== classDim);
  if (t.shape.join() !== expected.join()) {
    throw outOfRangeError(where, 'yTrue.shape', `${shown(expected)}${what} (yPred's ${shown(p)} without its class dimension)`, [
      ...t.shape,
    ]);
  }
  if (!INTEGERS.has(t.dtype)) {
    throw invalidParameterError(where, 'yTrue', `an integer tensor of class indices${what} (convert with .long())`, t.dtype);
  }
  return t;
}

/**
 * Checks yPred and yTrue for `mode`:
 * - binary: equal shapes, or equal once a channel dimension of size 1 is dropped from one of them;
 * - multiclass: yPred (N, C, ...), yTrue (N, ...) of integer class indices;
 * - multilabel: equal shapes, yPred (N, C, ...).
 * `context` ends the expected-shape phrase of errors (' in binary mode'; '' for mode-less losses).
 */
export function checkInputs(where: string, mode: LossMode, yPred: unknown, yTrue: unknown, context = ` in ${mode} mode`): [Tensor, Tensor] {
  const p = checkPrediction(where, yPred, mode !== 'binary');
  if (mode === 'multiclass') return [p, checkClassTarget(where, p, yTrue)];
  const t = checkTensor(where, 'yTrue', yTrue);
  if (t.dtype === 'bool' || !(FLOATS.has(t.dtype) || INTEGERS.has(t.dtype))) {
    throw invalidParameterError(
      where,
      'yTrue',
      `a tensor of 0/1 labels ${mode === 'binary' ? '' : 'per channel '}(float or integer)`,
      t.dtype,
    );
  }
  if (mode === 'multilabel') {
    if (t.shape.join() !== p.shape.join()) {
      throw outOfRangeError(where, 'yTrue.shape', `yPred's shape ${shown(p.shape)}${context}`, [...t.shape]);
    }
  } else if (!binaryShapesMatch(p.shape, t.shape)) {
    const spatial = withoutUnitChannel(p.shape);
    const either = spatial.length === p.shape.length ? '' : `${shown(spatial)} or `;
    throw outOfRangeError(where, 'yTrue.shape', `${either}yPred's shape ${shown(p.shape)}${context}`, [...t.shape]);
  }
  return [p, t];
}
