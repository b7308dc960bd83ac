// Dropout. `training` defaults to true, as in F.dropout; modules pass their own mode. With
// `inplace: true` the input is overwritten and returned (the same handle).
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { aten, checkBool, checkOptionKeys, checkProbability, tid, wrap } from '../../ops/registry.js';

export interface DropoutOptions {
  p?: number;
  training?: boolean;
  inplace?: boolean;
}

const DROPOUT = aten('dropout');
const DROPOUT_ = aten('dropout_');
const FEATURE_DROPOUT = aten('feature_dropout');
const FEATURE_DROPOUT_ = aten('feature_dropout_');

/** Element-wise dropout, or with `channels` the channel-wise one (which needs 3-D or 4-D input). */
function run(op: string, input: Tensor, options: DropoutOptions | undefined, channels: boolean): Tensor {
  const id = tid(input, op, 'input');
  checkOptionKeys(op, options, ['p', 'training', 'inplace']);
  const p = checkProbability(op, 'p', options?.p ?? 0.5);
  const training = checkBool(op, 'training', options?.training ?? true);
  if (channels) {
    const s = input.shape;
    if (s.length !== 4 && s.length !== 3) throw new RangeError(`${op}: input must be 4-D or 3-D, got shape [${s.join(', ')}]`);
  }
  if (!checkBool(op, 'inplace', options?.inplace ?? false)) return wrap(native.call(channels ? FEATURE_DROPOUT : DROPOUT, id, p, training));
  native.callVoid(channels ? FEATURE_DROPOUT_ : DROPOUT_, id, p, training);
  return input;
}

export function dropout(input: Tensor, options?: DropoutOptions): Tensor {
  return run('F.dropout', input, options, false);
}

/** Zeroes whole channels of (N, C, H, W) or (C, H, W) input. */
export function dropout2d(input: Tensor, options?: DropoutOptions): Tensor {
  return run('F.dropout2d', input, options, true);
}
