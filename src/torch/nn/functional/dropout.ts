// Dropout. `training` defaults to true, as in F.dropout; modules pass their own mode.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { aten, checkBool, checkNumber, checkOptions, tid, wrap } from '../../ops/registry.js';

const DROPOUT = aten('dropout');
const FEATURE_DROPOUT = aten('feature_dropout');

function check(op: string, options: { p?: number; training?: boolean } | undefined): [number, boolean] {
  checkOptions(options, ['p', 'training'], op);
  const p = checkNumber(options?.p ?? 0.5, op, 'p');
  if (p < 0 || p > 1) throw new RangeError(`${op}: p must be in [0, 1], got ${p}`);
  return [p, checkBool(options?.training ?? true, op, 'training')];
}

export function dropout(input: Tensor, options?: { p?: number; training?: boolean }): Tensor {
  const [p, training] = check('F.dropout', options);
  return wrap(native.call(DROPOUT, tid(input, 'F.dropout', 'input'), p, training));
}

/** Zeroes whole channels of (N, C, H, W) input. */
export function dropout2d(input: Tensor, options?: { p?: number; training?: boolean }): Tensor {
  const id = tid(input, 'F.dropout2d', 'input');
  const [p, training] = check('F.dropout2d', options);
  const s = input.shape;
  if (s.length !== 4 && s.length !== 3) throw new RangeError(`F.dropout2d: input must be 4-D or 3-D, got shape [${s.join(', ')}]`);
  return wrap(native.call(FEATURE_DROPOUT, id, p, training));
}
