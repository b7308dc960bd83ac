// torch.nn.init: in-place initialisers, ported from PyTorch 1.13's torch/nn/init.py so that the
// same seed gives the same values: each one calls libtorch's generator through the same kernel
// (uniform_, normal_) with the same bounds, computed with the same double arithmetic.
// All of them run under noGrad (parameters are leaves that require grad) and return the tensor.
import type { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { checkFinite, checkNumber, describeChoices, invalidParameterError } from '../../validate.js';
import { checkOptionKeys, tid } from '../ops/registry.js';
import { uniform_ as uniformRaw, normal_ as normalRaw, erfinv_, fill_, zero_, mul_, add_, clamp_ } from '../ops/inplace.js';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leakyRelu'
  | 'selu'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'leaky_relu';
export type FanMode = 'fanIn' | 'fanOut' | 'fan_in' | 'fan_out';

/** The names calculateGain's error lists (the snake_case spellings are accepted too). */
const GAIN_NAMES = ['linear', 'conv2d', 'convTranspose2d', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'];
const LINEAR_FNS = new Set([
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'convTranspose1d',
  'convTranspose2d',
  'convTranspose3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'sigmoid',
]);

/** The recommended gain for a nonlinearity (param: leakyRelu's negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  if (LINEAR_FNS.has(nonlinearity)) return 1;
  switch (nonlinearity) {
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leakyRelu':
    case 'leaky_relu': {
      const slope = param == null ? 0.01 : checkFinite('init.calculateGain', 'param', param);
      // Python's slope ** 2, spelled the same way so the double rounds the same.
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case 'selu':
      return 3.0 / 4;
    default:
      throw invalidParameterError('init.calculateGain', 'nonlinearity', describeChoices(GAIN_NAMES), nonlinearity);
  }
}

function checkTensor(t: unknown, fn: string): Tensor {
  tid(t, `init.${fn}`, 'tensor');
  return t as Tensor;
}

/** [fanIn, fanOut] as PyTorch computes them: dim 1 and dim 0 times the receptive field. */
export function calculateFanInAndFanOut(tensor: Tensor, fn = 'calculateFanInAndFanOut'): [number, number] {
  const s = checkTensor(tensor, fn).shape;
  if (s.length < 2) {
    throw new RangeError(
      `init.${fn}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape [${s.join(', ')}])`,
    );
  }
  let receptive = 1;
  for (const d of s.slice(2)) receptive *= d;
  return [s[1]! * receptive, s[0]! * receptive];
}

function fan(tensor: Tensor, mode: unknown, fn: string): number {
  const m = mode ?? 'fanIn';
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor, fn);
  if (m === 'fanIn' || m === 'fan_in') return fanIn;
  if (m === 'fanOut' || m === 'fan_out') return fanOut;
  throw invalidParameterError(`init.${fn}`, 'mode', "'fanIn' or 'fanOut'", mode);
}

function num(v: unknown, fallback: number, fn: string, name: string): number {
  return v === undefined ? fallback : checkNumber(`init.${fn}`, name, v);
}

export interface KaimingOptions {
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(tensor: Tensor, options: KaimingOptions | undefined, fn: string): number | null {
  checkOptionKeys(`init.${fn}`, options, ['a', 'mode', 'nonlinearity']);
  checkTensor(tensor, fn);
  const a = num(options?.a, 0, fn, 'a');
  if (tensor.numel === 0) {
    process.emitWarning(`init.${fn}: initializing zero-element tensors is a no-op`);
    return null;
  }
  return calculateGain(options?.nonlinearity ?? 'leakyRelu', a) / Math.sqrt(fan(tensor, options?.mode, fn));
}

/** He initialisation, U(-bound, bound) with bound = gain * sqrt(3 / fan). */
export function kaimingUniform_<T extends Tensor>(tensor: T, options?: KaimingOptions): T {
  const std = kaimingStd(tensor, options, 'kaimingUniform_');
  if (std === null) return tensor;
  const bound = Math.sqrt(3.0) * std;
  return noGrad(() => uniformRaw(tensor, -bound, bound));
}

/** He initialisation, N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_<T extends Tensor>(tensor: T, options?: KaimingOptions): T {
  const std = kaimingStd(tensor, options, 'kaimingNormal_');
  if (std === null) return tensor;
  return noGrad(() => normalRaw(tensor, 0, std));
}

function xavierStd(tensor: Tensor, options: { gain?: number } | undefined, fn: string): number {
  checkOptionKeys(`init.${fn}`, options, ['gain']);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor, fn);
  return num(options?.gain, 1, fn, 'gain') * Math.sqrt(2.0 / (fanIn + fanOut));
}

/** Glorot initialisation, U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform_<T extends Tensor>(tensor: T, options?: { gain?: number }): T {
  const a = Math.sqrt(3.0) * xavierStd(tensor, options, 'xavierUniform_');
  return noGrad(() => uniformRaw(tensor, -a, a));
}

/** Glorot initialisation, N(0, std^2) with std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal_<T extends Tensor>(tensor: T, options?: { gain?: number }): T {
  const std = xavierStd(tensor, options, 'xavierNormal_');
  return noGrad(() => normalRaw(tensor, 0, std));
}

/** U(a, b), defaults U(0, 1). */
export function uniform_<T extends Tensor>(tensor: T, options?: { a?: number; b?: number }): T {
  checkOptionKeys('init.uniform_', options, ['a', 'b']);
  checkTensor(tensor, 'uniform_');
  const a = num(options?.a, 0, 'uniform_', 'a');
  const b = num(options?.b, 1, 'uniform_', 'b');
  return noGrad(() => uniformRaw(tensor, a, b));
}

/** N(mean, std^2), defaults N(0, 1). */
export function normal_<T extends Tensor>(tensor: T, options?: { mean?: number; std?: number }): T {
  checkOptionKeys('init.normal_', options, ['mean', 'std']);
  checkTensor(tensor, 'normal_');
  const mean = num(options?.mean, 0, 'normal_', 'mean');
  const std = num(options?.std, 1, 'normal_', 'std');
  return noGrad(() => normalRaw(tensor, mean, std));
}

export function constant_<T extends Tensor>(tensor: T, val: number): T {
  checkTensor(tensor, 'constant_');
  const v = num(val, 0, 'constant_', 'val');
  return noGrad(() => fill_(tensor, v));
}

export function ones_<T extends Tensor>(tensor: T): T {
  checkTensor(tensor, 'ones_');
  return noGrad(() => fill_(tensor, 1));
}

export function zeros_<T extends Tensor>(tensor: T): T {
  checkTensor(tensor, 'zeros_');
  return noGrad(() => zero_(tensor));
}

/**
 * N(mean, std^2) truncated to [a, b] (defaults mean 0, std 1, a -2, b 2), by PyTorch's inverse
 * CDF method: uniform_ between the CDF values, erfinv_, scale, shift, clamp.
 */
export function truncNormal_<T extends Tensor>(tensor: T, options?: { mean?: number; std?: number; a?: number; b?: number }): T {
  const fn = 'truncNormal_';
  checkOptionKeys(`init.${fn}`, options, ['mean', 'std', 'a', 'b']);
  checkTensor(tensor, fn);
  const mean = num(options?.mean, 0, fn, 'mean');
  const std = num(options?.std, 1, fn, 'std');
  const a = num(options?.a, -2, fn, 'a');
  const b = num(options?.b, 2, fn, 'b');
  if (mean < a - 2 * std || mean > b + 2 * std) {
    process.emitWarning('mean is more than 2 std from [a, b] in init.truncNormal_. The distribution of values may be incorrect.');
  }
  const normCdf = (x: number) => (1 + erf(x / Math.sqrt(2))) / 2;
  const l = normCdf((a - mean) / std);
  const u = normCdf((b - mean) / std);
  return noGrad(() => {
    uniformRaw(tensor, 2 * l - 1, 2 * u - 1);
    erfinv_(tensor);
    mul_(tensor, std * Math.sqrt(2));
    add_(tensor, mean);
    return clamp_(tensor, a, b);
  });
}

/*
 * erf for doubles, as Python's math.erf computes it (glibc 2.36's s_erf.c, Sun's fdlibm with
 * the polynomials evaluated in pairs): JS has no Math.erf, and truncNormal_'s uniform bounds
 * should round as PyTorch's do. Bit-identical except for 1.25 <= |x| < 2.86, where V8's exp
 * and glibc's can differ by an ulp (about 0.4% of inputs); float32 tensors see that only if
 * the bound sits on a float32 rounding boundary.
 * ====================================================
 * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *
 * Developed at SunPro, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 */
const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const PP = [
  1.28379167095512558561e-1, -3.2504210724700149937e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5,
];
const QQ = [
  1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.9602282787753681232e-6,
];
const PA = [
  -2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1,
  3.54783043256182359371e-2, -2.166375594868790843e-3,
];
const QA = [
  1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2,
  1.1984499846799107417e-2,
];
const RA = [
  -9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2,
  -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592,
];
const SA = [
  1, 1.96512716674392571292e1, 1.376577541435190426e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2,
  1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2,
];
const RB = [
  -9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2,
  -1.02509513161107724954e3, -4.83519191608651397019e2,
];
const SB = [
  1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3,
  4.74528541206955367215e2, -2.24409524465858183362e1,
];

const scratch = new DataView(new ArrayBuffer(8));

/** @internal exported for the tests. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (!Number.isFinite(x)) return x > 0 ? 1 : -1;
  scratch.setFloat64(0, x);
  const ix = scratch.getUint32(0) & 0x7fffffff;
  if (ix < 0x3feb0000) {
    if (ix < 0x3e300000) return ix < 0x00800000 ? 0.0625 * (16.0 * x + 16.0 * EFX * x) : x + EFX * x;
    const z = x * x;
    const z2 = z * z;
    const z4 = z2 * z2;
    const r = PP[0]! + z * PP[1]! + z2 * (PP[2]! + z * PP[3]!) + z4 * PP[4]!;
    const s = 1 + z * QQ[1]! + z2 * (QQ[2]! + z * QQ[3]!) + z4 * (QQ[4]! + z * QQ[5]!);
    return x + x * (r / s);
  }
  if (ix < 0x3ff40000) {
    const s = Math.abs(x) - 1;
    const s2 = s * s;
    const s4 = s2 * s2;
    const s6 = s4 * s2;
    const p = PA[0]! + s * PA[1]! + s2 * (PA[2]! + s * PA[3]!) + s4 * (PA[4]! + s * PA[5]!) + s6 * PA[6]!;
    const q = 1 + s * QA[1]! + s2 * (QA[2]! + s * QA[3]!) + s4 * (QA[4]! + s * QA[5]!) + s6 * QA[6]!;
    return x >= 0 ? ERX + p / q : -ERX - p / q;
  }
  if (ix >= 0x40180000) return x >= 0 ? 1 - 1e-300 : 1e-300 - 1;
  const ax = Math.abs(x);
  const s = 1 / (ax * ax);
  const s2 = s * s;
  const s4 = s2 * s2;
  const s6 = s4 * s2;
  let R: number;
  let S: number;
  if (ix < 0x4006db6e) {
    R = RA[0]! + s * RA[1]! + s2 * (RA[2]! + s * RA[3]!) + s4 * (RA[4]! + s * RA[5]!) + s6 * (RA[6]! + s * RA[7]!);
    S = 1 + s * SA[1]! + s2 * (SA[2]! + s * SA[3]!) + s4 * (SA[4]! + s * SA[5]!) + s6 * (SA[6]! + s * SA[7]!) + s4 * s4 * SA[8]!;
  } else {
    R = RB[0]! + s * RB[1]! + s2 * (RB[2]! + s * RB[3]!) + s4 * (RB[4]! + s * RB[5]!) + s6 * RB[6]!;
    S = 1 + s * SB[1]! + s2 * (SB[2]! + s * SB[3]!) + s4 * (SB[4]! + s * SB[5]!) + s6 * (SB[6]! + s * SB[7]!);
  }
  scratch.setFloat64(0, ax);
  scratch.setUint32(4, 0);
  const z = scratch.getFloat64(0);
  const r = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + R / S);
  return x >= 0 ? 1 - r / ax : r / ax - 1;
}
