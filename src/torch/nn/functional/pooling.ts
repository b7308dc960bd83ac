// Pooling. `stride` defaults to `kernelSize`, as in PyTorch; maxPool2d with returnIndices
// gives [output, indices] for maxUnpool2d (SegNet's decoder).
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { invalidParameterError } from '../../../validate.js';
import { aten, checkBool, checkInt, checkInts, checkOptionKeys, tid, wrap } from '../../ops/registry.js';

export interface MaxPool2dOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  ceilMode?: boolean;
}

function check4d(op: string, input: Tensor): void {
  const s = input.shape;
  if (s.length !== 4 && s.length !== 3)
    throw new RangeError(`${op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape [${s.join(', ')}]`);
}

function poolArgs(op: string, kernelSize: number | number[], options: MaxPool2dOptions | undefined) {
  const k = checkInts(op, 'kernelSize', kernelSize, 2);
  const stride = options?.stride === undefined ? k : checkInts(op, 'stride', options.stride, 2);
  const padding = checkInts(op, 'padding', options?.padding ?? 0, 2);
  for (let i = 0; i < 2; i++) {
    if (padding[i]! * 2 > k[i]!)
      throw new RangeError(`${op}: padding [${padding.join(', ')}] must be at most half of kernelSize [${k.join(', ')}]`);
  }
  return { k, stride, padding };
}

const MAX_POOL = aten('max_pool2d');
const MAX_POOL_IDX = aten('max_pool2d_with_indices');
export function maxPool2d(input: Tensor, kernelSize: number | number[], options?: MaxPool2dOptions & { returnIndices?: false }): Tensor;
export function maxPool2d(
  input: Tensor,
  kernelSize: number | number[],
  options: MaxPool2dOptions & { returnIndices: true },
): [Tensor, Tensor];
export function maxPool2d(
  input: Tensor,
  kernelSize: number | number[],
  options?: MaxPool2dOptions & { returnIndices?: boolean },
): Tensor | [Tensor, Tensor] {
  const op = 'F.maxPool2d';
  checkOptionKeys(op, options, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
  const x = tid(input, op, 'input');
  check4d(op, input);
  const { k, stride, padding } = poolArgs(op, kernelSize, options);
  const dilation = checkInts(op, 'dilation', options?.dilation ?? 1, 2);
  const ceil = checkBool(op, 'ceilMode', options?.ceilMode ?? false);
  if (options?.returnIndices) {
    const [o, i] = native.call(MAX_POOL_IDX, x, k, stride, padding, dilation, ceil) as [number, number];
    return [wrap(o), wrap(i)];
  }
  return wrap(native.call(MAX_POOL, x, k, stride, padding, dilation, ceil));
}

const MAX_UNPOOL = aten('max_unpool2d');
/** Places values back at the positions `indices` recorded; outputSize defaults to the inverse of the pool. */
export function maxUnpool2d(
  input: Tensor,
  indices: Tensor,
  kernelSize: number | number[],
  options?: { stride?: number | number[]; padding?: number | number[]; outputSize?: number[] },
): Tensor {
  const op = 'F.maxUnpool2d';
  checkOptionKeys(op, options, ['stride', 'padding', 'outputSize']);
  const x = tid(input, op, 'input');
  const idx = tid(indices, op, 'indices');
  check4d(op, input);
  const { k, stride, padding } = poolArgs(op, kernelSize, options);
  const s = input.shape;
  const h = s[s.length - 2]!;
  const w = s[s.length - 1]!;
  let size = [(h - 1) * stride[0]! - 2 * padding[0]! + k[0]!, (w - 1) * stride[1]! - 2 * padding[1]! + k[1]!];
  if (options?.outputSize !== undefined) {
    const o = checkInts(op, 'outputSize', options.outputSize);
    size = o.slice(-2);
  }
  if (indices.shape.join() !== s.join()) {
    throw new RangeError(`${op}: indices shape [${indices.shape.join(', ')}] must equal input shape [${s.join(', ')}]`);
  }
  return wrap(native.call(MAX_UNPOOL, x, idx, size));
}

const AVG_POOL = aten('avg_pool2d');
export function avgPool2d(
  input: Tensor,
  kernelSize: number | number[],
  options?: {
    stride?: number | number[];
    padding?: number | number[];
    ceilMode?: boolean;
    countIncludePad?: boolean;
    divisorOverride?: number | null;
  },
): Tensor {
  const op = 'F.avgPool2d';
  checkOptionKeys(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const x = tid(input, op, 'input');
  check4d(op, input);
  const { k, stride, padding } = poolArgs(op, kernelSize, options);
  return wrap(
    native.call(
      AVG_POOL,
      x,
      k,
      stride,
      padding,
      options?.ceilMode ?? false,
      options?.countIncludePad ?? true,
      options?.divisorOverride ?? null,
    ),
  );
}

const ADAPTIVE_AVG = aten('adaptive_avg_pool2d');
const ADAPTIVE_MAX = aten('adaptive_max_pool2d');
/** Averages into an outputSize grid (PSPNet's bins); a null size keeps that dimension. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | (number | null)[]): Tensor {
  const op = 'F.adaptiveAvgPool2d';
  const x = tid(input, op, 'input');
  check4d(op, input);
  return wrap(native.call(ADAPTIVE_AVG, x, resolveSize(op, input, outputSize)));
}
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | (number | null)[],
  options?: { returnIndices?: boolean },
): Tensor | [Tensor, Tensor] {
  const op = 'F.adaptiveMaxPool2d';
  checkOptionKeys(op, options, ['returnIndices']);
  const x = tid(input, op, 'input');
  check4d(op, input);
  const [o, i] = native.call(ADAPTIVE_MAX, x, resolveSize(op, input, outputSize)) as [number, number];
  if (options?.returnIndices) return [wrap(o), wrap(i)];
  wrap(i).dispose();
  return wrap(o);
}

function resolveSize(op: string, input: Tensor, size: number | (number | null)[]): number[] {
  const s = input.shape;
  const arr = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(arr) || arr.length !== 2)
    throw invalidParameterError(op, 'outputSize', 'an integer or [h, w] of integers or nulls', size);
  return arr.map((v, i) => (v === null ? s[s.length - 2 + i]! : checkInt(op, 'outputSize', v)));
}
