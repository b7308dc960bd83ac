// In-place ops, the ones optimizers and initialisers need. Each returns its input.
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { aten, checkNumber, checkOptionKeys, tid } from './registry.js';
import type { TensorOrNumber } from './math.js';

function scalarOrTensor(jsName: string, name: string, withAlpha: boolean) {
  const ht = aten(name, 'Tensor');
  const hs = aten(name, 'Scalar');
  return <T extends Tensor>(self: T, other: TensorOrNumber, alpha?: number): T => {
    const id = tid(self, jsName, 'self');
    const a = withAlpha ? [alpha ?? 1] : [];
    if (typeof other === 'number') native.callVoid(hs, id, other, ...a);
    else native.callVoid(ht, id, tid(other, jsName, 'other'), ...a);
    return self;
  };
}

const addInplace = scalarOrTensor('add_', 'add_', true);
const subInplace = scalarOrTensor('sub_', 'sub_', true);
export function add_<T extends Tensor>(self: T, other: TensorOrNumber, options?: { alpha?: number }): T {
  checkOptionKeys('add_', options, ['alpha']);
  return addInplace(self, other, options?.alpha);
}
export function sub_<T extends Tensor>(self: T, other: TensorOrNumber, options?: { alpha?: number }): T {
  checkOptionKeys('sub_', options, ['alpha']);
  return subInplace(self, other, options?.alpha);
}
export const mul_ = scalarOrTensor('mul_', 'mul_', false);
export const div_ = scalarOrTensor('div_', 'div_', false);

const ADDCMUL_ = aten('addcmul_');
const ADDCDIV_ = aten('addcdiv_');
export function addcmul_<T extends Tensor>(self: T, t1: Tensor, t2: Tensor, options?: { value?: number }): T {
  checkOptionKeys('addcmul_', options, ['value']);
  native.callVoid(
    ADDCMUL_,
    tid(self, 'addcmul_', 'self'),
    tid(t1, 'addcmul_', 'tensor1'),
    tid(t2, 'addcmul_', 'tensor2'),
    options?.value ?? 1,
  );
  return self;
}
export function addcdiv_<T extends Tensor>(self: T, t1: Tensor, t2: Tensor, options?: { value?: number }): T {
  checkOptionKeys('addcdiv_', options, ['value']);
  native.callVoid(
    ADDCDIV_,
    tid(self, 'addcdiv_', 'self'),
    tid(t1, 'addcdiv_', 'tensor1'),
    tid(t2, 'addcdiv_', 'tensor2'),
    options?.value ?? 1,
  );
  return self;
}

const LERP_S_ = aten('lerp_', 'Scalar');
const LERP_T_ = aten('lerp_', 'Tensor');
export function lerp_<T extends Tensor>(self: T, end: Tensor, weight: TensorOrNumber): T {
  const a = tid(self, 'lerp_', 'self');
  const b = tid(end, 'lerp_', 'end');
  if (typeof weight === 'number') native.callVoid(LERP_S_, a, b, weight);
  else native.callVoid(LERP_T_, a, b, tid(weight, 'lerp_', 'weight'));
  return self;
}

const COPY_ = aten('copy_');
export function copy_<T extends Tensor>(self: T, src: Tensor): T {
  native.callVoid(COPY_, tid(self, 'copy_', 'self'), tid(src, 'copy_', 'src'), false);
  return self;
}

const ZERO_ = aten('zero_');
export function zero_<T extends Tensor>(self: T): T {
  native.callVoid(ZERO_, tid(self, 'zero_', 'self'));
  return self;
}

const FILL_S = aten('fill_', 'Scalar');
const FILL_T = aten('fill_', 'Tensor');
export function fill_<T extends Tensor>(self: T, value: TensorOrNumber): T {
  const id = tid(self, 'fill_', 'self');
  if (typeof value === 'number') native.callVoid(FILL_S, id, value);
  else native.callVoid(FILL_T, id, tid(value, 'fill_', 'value'));
  return self;
}

const CLAMP_ = aten('clamp_');
export function clamp_<T extends Tensor>(self: T, min?: number | null, max?: number | null): T {
  if (min == null && max == null) throw new TypeError('clamp_: at least one of min and max must be given');
  native.callVoid(CLAMP_, tid(self, 'clamp_', 'self'), min ?? null, max ?? null);
  return self;
}

function unaryInplace(name: string, atenName = name) {
  const h = aten(atenName);
  return <T extends Tensor>(self: T): T => {
    native.callVoid(h, tid(self, name, 'self'));
    return self;
  };
}
export const sqrt_ = unaryInplace('sqrt_');
export const neg_ = unaryInplace('neg_');
export const abs_ = unaryInplace('abs_');
export const exp_ = unaryInplace('exp_');
export const erfinv_ = unaryInplace('erfinv_');
export const sigmoid_ = unaryInplace('sigmoid_');
// The activations' in-place forms, for the layers' `inplace: true`.
export const relu_ = unaryInplace('relu_');
export const relu6_ = unaryInplace('relu6_');
export const silu_ = unaryInplace('silu_');
export const hardswish_ = unaryInplace('hardswish_');

const LEAKY_RELU_ = aten('leaky_relu_');
export function leakyRelu_<T extends Tensor>(self: T, negativeSlope = 0.01): T {
  native.callVoid(LEAKY_RELU_, tid(self, 'leakyRelu_', 'self'), checkNumber('leakyRelu_', 'negativeSlope', negativeSlope));
  return self;
}

const POW_ = aten('pow_', 'Scalar');
export function pow_<T extends Tensor>(self: T, exponent: number): T {
  native.callVoid(POW_, tid(self, 'pow_', 'self'), checkNumber('pow_', 'exponent', exponent));
  return self;
}

const UNIFORM_ = aten('uniform_');
const NORMAL_ = aten('normal_');
/** Fills with U(from, to) from libtorch's generator (same stream as PyTorch for the same seed). */
export function uniform_<T extends Tensor>(self: T, from = 0, to = 1): T {
  native.callVoid(UNIFORM_, tid(self, 'uniform_', 'self'), checkNumber('uniform_', 'from', from), checkNumber('uniform_', 'to', to), null);
  return self;
}
export function normal_<T extends Tensor>(self: T, mean = 0, std = 1): T {
  native.callVoid(NORMAL_, tid(self, 'normal_', 'self'), checkNumber('normal_', 'mean', mean), checkNumber('normal_', 'std', std), null);
  return self;
}

const MASKED_FILL_ = aten('masked_fill_', 'Scalar');
export function maskedFill_<T extends Tensor>(self: T, mask: Tensor, value: number): T {
  const m = tid(mask, 'maskedFill_', 'mask');
  if (mask.dtype !== 'bool')
    throw new TypeError(`maskedFill_: mask must be a bool tensor, got ${mask.dtype} (compare first, e.g. m.gt(0))`);
  native.callVoid(MASKED_FILL_, tid(self, 'maskedFill_', 'self'), m, checkNumber('maskedFill_', 'value', value));
  return self;
}
