// The multi-tensor ("foreach") building blocks of the optimizers: aten's `_foreach_*` ops, which
// update a whole list of tensors per call (on CUDA: a few fused kernel launches instead of one or
// more per parameter), and the grouping PyTorch's _multi_tensor_* updates do before calling them.
//
// Only overloads that exist in libtorch 1.13 and 2.x are used, and only those segkit can pass
// from JS: Tensor[] lists and single Scalars. The `.ScalarList` overloads (one Scalar per tensor,
// a `Scalar[]` argument) cannot be passed, so where PyTorch gives per-parameter scalars (Adam's
// bias corrections, which depend on each parameter's step count) the caller splits the list into
// buckets that share the scalar; on CPU every `_foreach_*` op loops over the tensors calling the
// single-tensor op, so both paths give bit-identical results there.
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { aten, tids, wrapAll } from '../ops/registry.js';

// Handles are resolved on first use: a libtorch without one of them only loses the foreach path.
const handles = new Map<string, number>();
function op(name: string, overload = ''): number {
  const key = `${name}.${overload}`;
  let h = handles.get(key);
  if (h === undefined) {
    h = aten(name, overload);
    handles.set(key, h);
  }
  return h;
}

const ids = (xs: readonly Tensor[], fn: string, arg: string): number[] => tids(xs, fn, arg);
const same = (a: readonly Tensor[], b: readonly Tensor[], fn: string): void => {
  if (a.length !== b.length) throw new RangeError(`${fn}: lists of different lengths (${a.length} and ${b.length})`);
};

/** `self[i] += alpha * other[i]` (aten::_foreach_add_.List). */
export function add_(self: Tensor[], other: readonly Tensor[], alpha = 1): void {
  if (self.length === 0) return;
  same(self, other, '_foreach_add_');
  native.callVoid(op('_foreach_add_', 'List'), ids(self, '_foreach_add_', 'self'), ids(other, '_foreach_add_', 'other'), alpha);
}

/** `self[i] + alpha * other[i]`, new tensors (aten::_foreach_add.List). */
export function add(self: readonly Tensor[], other: readonly Tensor[], alpha = 1): Tensor[] {
  if (self.length === 0) return [];
  same(self, other, '_foreach_add');
  return wrapAll(native.call(op('_foreach_add', 'List'), ids(self, '_foreach_add', 'self'), ids(other, '_foreach_add', 'other'), alpha));
}

/** `self[i] += scalar` (aten::_foreach_add_.Scalar). */
export function addScalar_(self: Tensor[], scalar: number): void {
  if (self.length === 0) return;
  native.callVoid(op('_foreach_add_', 'Scalar'), ids(self, '_foreach_add_', 'self'), scalar);
}

/** `self[i] *= scalar` (aten::_foreach_mul_.Scalar). */
export function mulScalar_(self: Tensor[], scalar: number): void {
  if (self.length === 0) return;
  native.callVoid(op('_foreach_mul_', 'Scalar'), ids(self, '_foreach_mul_', 'self'), scalar);
}

/** `self[i] /= scalar` (aten::_foreach_div_.Scalar). */
export function divScalar_(self: Tensor[], scalar: number): void {
  if (self.length === 0) return;
  native.callVoid(op('_foreach_div_', 'Scalar'), ids(self, '_foreach_div_', 'self'), scalar);
}

/** `self[i] += value * t1[i] * t2[i]` (aten::_foreach_addcmul_.Scalar). */
export function addcmul_(self: Tensor[], t1: readonly Tensor[], t2: readonly Tensor[], value = 1): void {
  if (self.length === 0) return;
  same(self, t1, '_foreach_addcmul_');
  same(self, t2, '_foreach_addcmul_');
  native.callVoid(
    op('_foreach_addcmul_', 'Scalar'),
    ids(self, '_foreach_addcmul_', 'self'),
    ids(t1, '_foreach_addcmul_', 'tensor1'),
    ids(t2, '_foreach_addcmul_', 'tensor2'),
    value,
  );
}

/** `self[i] + value * t1[i] * t2[i]`, new tensors (aten::_foreach_addcmul.Scalar). */
export function addcmul(self: readonly Tensor[], t1: readonly Tensor[], t2: readonly Tensor[], value = 1): Tensor[] {
  if (self.length === 0) return [];
  same(self, t1, '_foreach_addcmul');
  same(self, t2, '_foreach_addcmul');
  return wrapAll(
    native.call(
      op('_foreach_addcmul', 'Scalar'),
      ids(self, '_foreach_addcmul', 'self'),
      ids(t1, '_foreach_addcmul', 'tensor1'),
      ids(t2, '_foreach_addcmul', 'tensor2'),
      value,
    ),
  );
}

/** `self[i] += value * t1[i] / t2[i]` (aten::_foreach_addcdiv_.Scalar). */
export function addcdiv_(self: Tensor[], t1: readonly Tensor[], t2: readonly Tensor[], value = 1): void {
  if (self.length === 0) return;
  same(self, t1, '_foreach_addcdiv_');
  same(self, t2, '_foreach_addcdiv_');
  native.callVoid(
    op('_foreach_addcdiv_', 'Scalar'),
    ids(self, '_foreach_addcdiv_', 'self'),
    ids(t1, '_foreach_addcdiv_', 'tensor1'),
    ids(t2, '_foreach_addcdiv_', 'tensor2'),
    value,
  );
}

/** `max(self[i], other[i])` into self (aten::_foreach_maximum_.List). */
export function maximum_(self: Tensor[], other: readonly Tensor[]): void {
  if (self.length === 0) return;
  same(self, other, '_foreach_maximum_');
  native.callVoid(op('_foreach_maximum_', 'List'), ids(self, '_foreach_maximum_', 'self'), ids(other, '_foreach_maximum_', 'other'));
}

/** `sqrt(self[i])`, new tensors (aten::_foreach_sqrt). */
export function sqrt(self: readonly Tensor[]): Tensor[] {
  if (self.length === 0) return [];
  return wrapAll(native.call(op('_foreach_sqrt'), ids(self, '_foreach_sqrt', 'self')));
}

/** `self[i] = sqrt(self[i])` (aten::_foreach_sqrt_). */
export function sqrt_(self: Tensor[]): void {
  if (self.length === 0) return;
  native.callVoid(op('_foreach_sqrt_'), ids(self, '_foreach_sqrt_', 'self'));
}

/** `-self[i]`, new tensors (aten::_foreach_neg). */
export function neg(self: readonly Tensor[]): Tensor[] {
  if (self.length === 0) return [];
  return wrapAll(native.call(op('_foreach_neg'), ids(self, '_foreach_neg', 'self')));
}

/** Every overload the optimizers' foreach paths call, as [name, overload] (all in libtorch 1.13 and 2.x). */
export const FOREACH_OPS: readonly (readonly [string, string])[] = [
  ['_foreach_add_', 'List'],
  ['_foreach_add', 'List'],
  ['_foreach_add_', 'Scalar'],
  ['_foreach_mul_', 'Scalar'],
  ['_foreach_div_', 'Scalar'],
  ['_foreach_addcmul_', 'Scalar'],
  ['_foreach_addcmul', 'Scalar'],
  ['_foreach_addcdiv_', 'Scalar'],
  ['_foreach_maximum_', 'List'],
  ['_foreach_sqrt', ''],
  ['_foreach_sqrt_', ''],
  ['_foreach_neg', ''],
];

/**
 * Whether a group takes the foreach path. `foreach` null (the default) means PyTorch 2's rule:
 * true when every parameter being updated is on a CUDA device.
 */
export function useForeach(foreach: boolean | null | undefined, params: readonly Tensor[]): boolean {
  if (foreach === true || foreach === false) return foreach;
  return params.length > 0 && params.every((p) => p.device.startsWith('cuda'));
}

/**
 * Splits indices 0..n-1 into buckets of parameters that can share one foreach call: the same
 * device and dtype (as PyTorch's _group_tensors_by_device_and_dtype, so CUDA takes the fused
 * route) and the same `extra` key (e.g. Adam's step count, where PyTorch passes a ScalarList).
 * Buckets keep the parameters' order; a group with one device/dtype/key gives one bucket.
 */
export function buckets(params: readonly Tensor[], extra?: (i: number) => string | number): number[][] {
  const map = new Map<string, number[]>();
  params.forEach((p, i) => {
    const key = `${p.device}|${p.dtype}|${extra === undefined ? '' : extra(i)}`;
    let list = map.get(key);
    if (list === undefined) map.set(key, (list = []));
    list.push(i);
  });
  return [...map.values()];
}

/** The elements of `xs` at `idx` (identity-preserving; no copy of the tensors). */
export function pick<T>(xs: readonly T[], idx: readonly number[]): T[] {
  return idx.map((i) => xs[i]!);
}
