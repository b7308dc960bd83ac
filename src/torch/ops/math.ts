// Element-wise math with broadcasting and scalars, comparisons, activations, matmul.
// A JS number that is an integer acts as a Python int (int tensors stay int), so
// `intTensor.add(1)` is int64 while `intTensor.mul(0.5)` promotes to float, as in PyTorch.
import { native } from '../native.js';
import { dtypeCode, type DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { checkChoice } from '../../validate.js';
import { aten, checkInt, checkNumber, checkOptionKeys, tid, wrap } from './registry.js';

export type TensorOrNumber = Tensor | number;

function unary(jsName: string, name: string, overload = ''): (x: Tensor) => Tensor {
  const h = aten(name, overload);
  return (x) => wrap(native.call(h, tid(x, jsName, 'input')));
}

/** An op with a Tensor and a Scalar overload for its second operand. */
function binary(jsName: string, name: string, tensorOverload: string, scalarOverload: string): (a: Tensor, b: TensorOrNumber) => Tensor {
  const ht = aten(name, tensorOverload);
  const hs = aten(name, scalarOverload);
  return (a, b) => {
    const ia = tid(a, jsName, 'input');
    return typeof b === 'number' ? wrap(native.call(hs, ia, b)) : wrap(native.call(ht, ia, tid(b, jsName, 'other')));
  };
}

const ADD = aten('add', 'Tensor');
const ADD_S = aten('add', 'Scalar');
const SUB = aten('sub', 'Tensor');
const SUB_S = aten('sub', 'Scalar');

/** input + alpha * other */
export function add(input: Tensor, other: TensorOrNumber, options?: { alpha?: number }): Tensor {
  const ia = tid(input, 'torch.add', 'input');
  checkOptionKeys('torch.add', options, ['alpha']);
  const alpha = options === undefined ? 1 : checkNumber('torch.add', 'alpha', options.alpha ?? 1);
  if (typeof other === 'number') return wrap(native.call(ADD_S, ia, other, alpha));
  return wrap(native.call(ADD, ia, tid(other, 'torch.add', 'other'), alpha));
}

/** input - alpha * other */
export function sub(input: Tensor, other: TensorOrNumber, options?: { alpha?: number }): Tensor {
  const ia = tid(input, 'torch.sub', 'input');
  checkOptionKeys('torch.sub', options, ['alpha']);
  const alpha = options === undefined ? 1 : checkNumber('torch.sub', 'alpha', options.alpha ?? 1);
  if (typeof other === 'number') return wrap(native.call(SUB_S, ia, other, alpha));
  return wrap(native.call(SUB, ia, tid(other, 'torch.sub', 'other'), alpha));
}

const RSUB_S = aten('rsub', 'Scalar');
/** other - input (PyTorch's rsub), for `1 - x`. */
export function rsub(input: Tensor, other: number): Tensor {
  return wrap(native.call(RSUB_S, tid(input, 'torch.rsub', 'input'), checkNumber('torch.rsub', 'other', other)));
}

export const mul = binary('torch.mul', 'mul', 'Tensor', 'Scalar');

const DIV = aten('div', 'Tensor');
const DIV_S = aten('div', 'Scalar');
const DIV_MODE = aten('div', 'Tensor_mode');
const DIV_S_MODE = aten('div', 'Scalar_mode');
const ROUNDING_MODES = ['trunc', 'floor', null] as const;
/** True division, or `roundingMode: 'trunc' | 'floor'`. */
export function div(input: Tensor, other: TensorOrNumber, options?: { roundingMode?: 'trunc' | 'floor' | null }): Tensor {
  const ia = tid(input, 'torch.div', 'input');
  checkOptionKeys('torch.div', options, ['roundingMode']);
  const mode = options === undefined ? null : checkChoice('torch.div', 'roundingMode', options.roundingMode ?? null, ROUNDING_MODES);
  if (typeof other === 'number') return wrap(mode ? native.call(DIV_S_MODE, ia, other, mode) : native.call(DIV_S, ia, other));
  const ib = tid(other, 'torch.div', 'other');
  return wrap(mode ? native.call(DIV_MODE, ia, ib, mode) : native.call(DIV, ia, ib));
}

const POW_TT = aten('pow', 'Tensor_Tensor');
const POW_TS = aten('pow', 'Tensor_Scalar');
const POW_ST = aten('pow', 'Scalar');
/** input ** exponent; a number input gives number ** tensor. */
export function pow(input: TensorOrNumber, exponent: TensorOrNumber): Tensor {
  if (typeof input === 'number') return wrap(native.call(POW_ST, input, tid(exponent, 'torch.pow', 'exponent')));
  const ia = tid(input, 'torch.pow', 'input');
  if (typeof exponent === 'number') return wrap(native.call(POW_TS, ia, exponent));
  return wrap(native.call(POW_TT, ia, tid(exponent, 'torch.pow', 'exponent')));
}

export const remainder = binary('torch.remainder', 'remainder', 'Tensor', 'Scalar');
export const fmod = binary('torch.fmod', 'fmod', 'Tensor', 'Scalar');
export const eq = binary('torch.eq', 'eq', 'Tensor', 'Scalar');
export const ne = binary('torch.ne', 'ne', 'Tensor', 'Scalar');
export const lt = binary('torch.lt', 'lt', 'Tensor', 'Scalar');
export const le = binary('torch.le', 'le', 'Tensor', 'Scalar');
export const gt = binary('torch.gt', 'gt', 'Tensor', 'Scalar');
export const ge = binary('torch.ge', 'ge', 'Tensor', 'Scalar');

function tensorBinary(jsName: string, name: string): (a: Tensor, b: Tensor) => Tensor {
  const h = aten(name);
  return (a, b) => wrap(native.call(h, tid(a, jsName, 'input'), tid(b, jsName, 'other')));
}
export const minimum = tensorBinary('torch.minimum', 'minimum');
export const maximum = tensorBinary('torch.maximum', 'maximum');
export const atan2 = tensorBinary('torch.atan2', 'atan2');
export const logicalAnd = tensorBinary('torch.logicalAnd', 'logical_and');
export const logicalOr = tensorBinary('torch.logicalOr', 'logical_or');
export const logicalXor = tensorBinary('torch.logicalXor', 'logical_xor');
export const matmul = tensorBinary('torch.matmul', 'matmul');
export const mm = tensorBinary('torch.mm', 'mm');
export const bmm = tensorBinary('torch.bmm', 'bmm');
export const dot = tensorBinary('torch.dot', 'dot');

export const neg = unary('torch.neg', 'neg');
export const abs = unary('torch.abs', 'abs');
export const exp = unary('torch.exp', 'exp');
export const log = unary('torch.log', 'log');
export const log2 = unary('torch.log2', 'log2');
export const log10 = unary('torch.log10', 'log10');
export const log1p = unary('torch.log1p', 'log1p');
export const expm1 = unary('torch.expm1', 'expm1');
export const sqrt = unary('torch.sqrt', 'sqrt');
export const rsqrt = unary('torch.rsqrt', 'rsqrt');
export const square = unary('torch.square', 'square');
export const reciprocal = unary('torch.reciprocal', 'reciprocal');
export const sin = unary('torch.sin', 'sin');
export const cos = unary('torch.cos', 'cos');
export const tan = unary('torch.tan', 'tan');
export const floor = unary('torch.floor', 'floor');
export const ceil = unary('torch.ceil', 'ceil');
export const round = unary('torch.round', 'round');
export const trunc = unary('torch.trunc', 'trunc');
export const sign = unary('torch.sign', 'sign');
export const erf = unary('torch.erf', 'erf');
export const logicalNot = unary('torch.logicalNot', 'logical_not');
export const isnan = unary('torch.isnan', 'isnan');
export const isinf = unary('torch.isinf', 'isinf');
export const isfinite = unary('torch.isfinite', 'isfinite');

export const sigmoid = unary('torch.sigmoid', 'sigmoid');
export const tanh = unary('torch.tanh', 'tanh');
export const relu = unary('torch.relu', 'relu');
export const relu6 = unary('torch.relu6', 'relu6');
export const silu = unary('torch.silu', 'silu');
export const hardswish = unary('torch.hardswish', 'hardswish');
export const hardsigmoid = unary('torch.hardsigmoid', 'hardsigmoid');
export const mish = unary('torch.mish', 'mish');

const LEAKY = aten('leaky_relu');
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  return wrap(native.call(LEAKY, tid(input, 'torch.leakyRelu', 'input'), checkNumber('torch.leakyRelu', 'negativeSlope', negativeSlope)));
}

const ELU = aten('elu');
export function elu(input: Tensor, alpha = 1.0): Tensor {
  return wrap(native.call(ELU, tid(input, 'torch.elu', 'input'), checkNumber('torch.elu', 'alpha', alpha)));
}

const GELU = aten('gelu');
const GELU_APPROXIMATIONS = ['none', 'tanh'] as const;
/** GELU, exact (`approximate: 'none'`) or with the tanh approximation. */
export function gelu(input: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor {
  checkOptionKeys('torch.gelu', options, ['approximate']);
  const approx =
    options === undefined ? 'none' : checkChoice('torch.gelu', 'approximate', options.approximate ?? 'none', GELU_APPROXIMATIONS);
  return wrap(native.call(GELU, tid(input, 'torch.gelu', 'input'), approx));
}

const SOFTPLUS = aten('softplus');
export function softplus(input: Tensor, options?: { beta?: number; threshold?: number }): Tensor {
  checkOptionKeys('torch.softplus', options, ['beta', 'threshold']);
  return wrap(native.call(SOFTPLUS, tid(input, 'torch.softplus', 'input'), options?.beta ?? 1, options?.threshold ?? 20));
}

const HARDTANH = aten('hardtanh');
export function hardtanh(input: Tensor, minVal = -1, maxVal = 1): Tensor {
  return wrap(native.call(HARDTANH, tid(input, 'torch.hardtanh', 'input'), minVal, maxVal));
}

const SOFTMAX = aten('softmax', 'int');
const LOG_SOFTMAX = aten('log_softmax', 'int');
/** Softmax along `dim` (required: PyTorch's implicit dim is deprecated), optionally in another dtype. */
export function softmax(input: Tensor, dim: number, options?: { dtype?: DType }): Tensor {
  const id = tid(input, 'torch.softmax', 'input');
  checkOptionKeys('torch.softmax', options, ['dtype']);
  return wrap(
    native.call(SOFTMAX, id, checkInt('torch.softmax', 'dim', dim), options?.dtype ? dtypeCode(options.dtype, 'torch.softmax') : null),
  );
}
export function logSoftmax(input: Tensor, dim: number, options?: { dtype?: DType }): Tensor {
  const id = tid(input, 'torch.logSoftmax', 'input');
  checkOptionKeys('torch.logSoftmax', options, ['dtype']);
  return wrap(
    native.call(
      LOG_SOFTMAX,
      id,
      checkInt('torch.logSoftmax', 'dim', dim),
      options?.dtype ? dtypeCode(options.dtype, 'torch.logSoftmax') : null,
    ),
  );
}

const WHERE = aten('where', 'self');
const WHERE_SO = aten('where', 'ScalarOther');
const WHERE_SS = aten('where', 'ScalarSelf');
const WHERE_S = aten('where', 'Scalar');
/** Elements of `input` where `condition` holds, else of `other`; either may be a number. */
export function where(condition: Tensor, input: TensorOrNumber, other: TensorOrNumber): Tensor {
  const c = tid(condition, 'torch.where', 'condition');
  if (typeof input === 'number') {
    if (typeof other === 'number') return wrap(native.call(WHERE_S, c, input, other));
    return wrap(native.call(WHERE_SS, c, input, tid(other, 'torch.where', 'other')));
  }
  const ia = tid(input, 'torch.where', 'input');
  if (typeof other === 'number') return wrap(native.call(WHERE_SO, c, ia, other));
  return wrap(native.call(WHERE, c, ia, tid(other, 'torch.where', 'other')));
}

const CLAMP = aten('clamp');
const CLAMP_T = aten('clamp', 'Tensor');
/** Clamps to [min, max]; either bound may be null, numbers or tensors (not mixed). */
export function clamp(input: Tensor, min?: TensorOrNumber | null, max?: TensorOrNumber | null): Tensor {
  const id = tid(input, 'torch.clamp', 'input');
  if (min == null && max == null) throw new TypeError('torch.clamp: at least one of min and max must be given');
  if ((min == null || typeof min === 'number') && (max == null || typeof max === 'number')) {
    return wrap(native.call(CLAMP, id, min ?? null, max ?? null));
  }
  if (typeof min === 'number' || typeof max === 'number') {
    throw new TypeError('torch.clamp: min and max must both be numbers or both be Tensors');
  }
  return wrap(
    native.call(CLAMP_T, id, min == null ? null : tid(min, 'torch.clamp', 'min'), max == null ? null : tid(max, 'torch.clamp', 'max')),
  );
}

const ADDCMUL = aten('addcmul');
const ADDCDIV = aten('addcdiv');
/** input + value * t1 * t2 */
export function addcmul(input: Tensor, t1: Tensor, t2: Tensor, options?: { value?: number }): Tensor {
  checkOptionKeys('torch.addcmul', options, ['value']);
  return wrap(
    native.call(
      ADDCMUL,
      tid(input, 'torch.addcmul', 'input'),
      tid(t1, 'torch.addcmul', 'tensor1'),
      tid(t2, 'torch.addcmul', 'tensor2'),
      options?.value ?? 1,
    ),
  );
}
/** input + value * t1 / t2 */
export function addcdiv(input: Tensor, t1: Tensor, t2: Tensor, options?: { value?: number }): Tensor {
  checkOptionKeys('torch.addcdiv', options, ['value']);
  return wrap(
    native.call(
      ADDCDIV,
      tid(input, 'torch.addcdiv', 'input'),
      tid(t1, 'torch.addcdiv', 'tensor1'),
      tid(t2, 'torch.addcdiv', 'tensor2'),
      options?.value ?? 1,
    ),
  );
}

const LERP_S = aten('lerp', 'Scalar');
const LERP_T = aten('lerp', 'Tensor');
/** input + weight * (end - input) */
export function lerp(input: Tensor, end: Tensor, weight: TensorOrNumber): Tensor {
  const a = tid(input, 'torch.lerp', 'input');
  const b = tid(end, 'torch.lerp', 'end');
  return wrap(
    typeof weight === 'number' ? native.call(LERP_S, a, b, weight) : native.call(LERP_T, a, b, tid(weight, 'torch.lerp', 'weight')),
  );
}

const EQUAL = aten('equal');
const ALLCLOSE = aten('allclose');
/** True when both have the same shape and values. */
export function equal(a: Tensor, b: Tensor): boolean {
  return native.call(EQUAL, tid(a, 'torch.equal', 'input'), tid(b, 'torch.equal', 'other')) as boolean;
}
export function allclose(a: Tensor, b: Tensor, options?: { rtol?: number; atol?: number; equalNan?: boolean }): boolean {
  checkOptionKeys('torch.allclose', options, ['rtol', 'atol', 'equalNan']);
  return native.call(
    ALLCLOSE,
    tid(a, 'torch.allclose', 'input'),
    tid(b, 'torch.allclose', 'other'),
    options?.rtol ?? 1e-5,
    options?.atol ?? 1e-8,
    options?.equalNan ?? false,
  ) as boolean;
}

// smp's Dice and Jaccard take probabilities as logsigmoid(x).exp(), which keeps gradients alive
// where sigmoid saturates; its soft scores clamp with one bound.
const LOG_SIGMOID = aten('log_sigmoid');
/** log(sigmoid(x)), computed stably for large |x| (PyTorch's `F.logsigmoid`). */
export function logsigmoid(input: Tensor): Tensor {
  return wrap(native.call(LOG_SIGMOID, tid(input, 'F.logsigmoid', 'input')));
}

const CLAMP_MIN = aten('clamp_min');
/** max(x, min) element-wise (PyTorch's `Tensor.clamp_min`); the gradient passes where x >= min. */
export function clampMin(input: Tensor, min: number): Tensor {
  return wrap(native.call(CLAMP_MIN, tid(input, 'torch.clampMin', 'input'), checkNumber('torch.clampMin', 'min', min)));
}
