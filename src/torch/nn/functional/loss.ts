// Losses with PyTorch's reduction semantics.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { describeChoices, invalidParameterError } from '../../../validate.js';
import { aten, checkInt, checkOptionKeys, checkProbability, tid, tidOpt, wrap } from '../../ops/registry.js';

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function reduction(op: string, r: unknown): number {
  const code = REDUCTION[(r ?? 'mean') as Reduction];
  if (typeof code === 'number') return code;
  throw invalidParameterError(op, 'reduction', describeChoices(Object.keys(REDUCTION)), r);
}

function floatTarget(op: string, target: Tensor): void {
  const d = target.dtype;
  if (d !== 'float32' && d !== 'float64' && d !== 'float16' && d !== 'bfloat16') {
    throw new TypeError(`${op}: target must be a floating point tensor of 0/1 (or soft) labels, got ${d} (convert with target.float())`);
  }
}

/** Class-index targets are (N, d1, ...) for input (N, C, d1, ...); probability targets match input. */
function classTarget(op: string, input: Tensor, target: Tensor): void {
  const x = input.shape;
  const t = target.shape;
  const expected = x.length === 1 ? [] : [x[0]!, ...x.slice(2)];
  if (t.join() !== expected.join()) {
    throw new RangeError(
      `${op}: class-index target must have shape [${expected.join(', ')}] for input [${x.join(', ')}] (input without its class dimension), got [${t.join(', ')}]`,
    );
  }
}

function sameShape(op: string, input: Tensor, target: Tensor): void {
  if (input.shape.join() !== target.shape.join()) {
    throw new RangeError(`${op}: target shape [${target.shape.join(', ')}] must equal input shape [${input.shape.join(', ')}]`);
  }
}

const BCE_LOGITS = aten('binary_cross_entropy_with_logits');
/** Sigmoid + binary cross-entropy in one stable op; posWeight weighs the positive class per channel. */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options?: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction },
): Tensor {
  const op = 'F.binaryCrossEntropyWithLogits';
  checkOptionKeys(op, options, ['weight', 'posWeight', 'reduction']);
  const x = tid(input, op, 'input');
  const y = tid(target, op, 'target');
  sameShape(op, input, target);
  floatTarget(op, target);
  return wrap(
    native.call(
      BCE_LOGITS,
      x,
      y,
      tidOpt(options?.weight, op, 'weight'),
      tidOpt(options?.posWeight, op, 'posWeight'),
      reduction(op, options?.reduction),
    ),
  );
}

const BCE = aten('binary_cross_entropy');
export function binaryCrossEntropy(input: Tensor, target: Tensor, options?: { weight?: Tensor | null; reduction?: Reduction }): Tensor {
  const op = 'F.binaryCrossEntropy';
  checkOptionKeys(op, options, ['weight', 'reduction']);
  const x = tid(input, op, 'input');
  const y = tid(target, op, 'target');
  sameShape(op, input, target);
  floatTarget(op, target);
  return wrap(native.call(BCE, x, y, tidOpt(options?.weight, op, 'weight'), reduction(op, options?.reduction)));
}

const CROSS_ENTROPY = aten('cross_entropy_loss');
/**
 * input (N, C, ...) logits; target (N, ...) int64 class indices (or probabilities of input's
 * shape). ignoreIndex pixels count neither in the loss nor in the mean.
 */
export function crossEntropy(
  input: Tensor,
  target: Tensor,
  options?: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction; labelSmoothing?: number },
): Tensor {
  const op = 'F.crossEntropy';
  checkOptionKeys(op, options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  const x = tid(input, op, 'input');
  const y = tid(target, op, 'target');
  const ls = checkProbability(op, 'labelSmoothing', options?.labelSmoothing ?? 0);
  const isIndex = target.dtype === 'int64' || target.dtype === 'int32' || target.dtype === 'uint8';
  if (isIndex && target.dtype !== 'int64') {
    throw new TypeError(`${op}: class-index target must be int64, got ${target.dtype} (convert with target.long())`);
  }
  if (isIndex) classTarget(op, input, target);
  else if (target.shape.join() !== input.shape.join()) {
    throw new RangeError(
      `${op}: a probability target must have the input's shape [${input.shape.join(', ')}], got [${target.shape.join(', ')}] (or pass int64 class indices)`,
    );
  }
  return wrap(
    native.call(
      CROSS_ENTROPY,
      x,
      y,
      tidOpt(options?.weight, op, 'weight'),
      reduction(op, options?.reduction),
      checkInt(op, 'ignoreIndex', options?.ignoreIndex ?? -100),
      ls,
    ),
  );
}

const NLL = aten('nll_loss_nd');
export function nllLoss(
  input: Tensor,
  target: Tensor,
  options?: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction },
): Tensor {
  const op = 'F.nllLoss';
  checkOptionKeys(op, options, ['weight', 'ignoreIndex', 'reduction']);
  const x = tid(input, op, 'input');
  const y = tid(target, op, 'target');
  if (target.dtype !== 'int64') throw new TypeError(`${op}: target must be int64 class indices, got ${target.dtype}`);
  classTarget(op, input, target);
  return wrap(
    native.call(
      NLL,
      x,
      y,
      tidOpt(options?.weight, op, 'weight'),
      reduction(op, options?.reduction),
      checkInt(op, 'ignoreIndex', options?.ignoreIndex ?? -100),
    ),
  );
}

const MSE = aten('mse_loss');
const L1 = aten('l1_loss');
const SMOOTH_L1 = aten('smooth_l1_loss');
export function mseLoss(input: Tensor, target: Tensor, options?: { reduction?: Reduction }): Tensor {
  checkOptionKeys('F.mseLoss', options, ['reduction']);
  return wrap(
    native.call(MSE, tid(input, 'F.mseLoss', 'input'), tid(target, 'F.mseLoss', 'target'), reduction('F.mseLoss', options?.reduction)),
  );
}
export function l1Loss(input: Tensor, target: Tensor, options?: { reduction?: Reduction }): Tensor {
  checkOptionKeys('F.l1Loss', options, ['reduction']);
  return wrap(
    native.call(L1, tid(input, 'F.l1Loss', 'input'), tid(target, 'F.l1Loss', 'target'), reduction('F.l1Loss', options?.reduction)),
  );
}
export function smoothL1Loss(input: Tensor, target: Tensor, options?: { reduction?: Reduction; beta?: number }): Tensor {
  checkOptionKeys('F.smoothL1Loss', options, ['reduction', 'beta']);
  return wrap(
    native.call(
      SMOOTH_L1,
      tid(input, 'F.smoothL1Loss', 'input'),
      tid(target, 'F.smoothL1Loss', 'target'),
      reduction('F.smoothL1Loss', options?.reduction),
      options?.beta ?? 1,
    ),
  );
}
