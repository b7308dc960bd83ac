// Reductions, scans, sorting. Without `dim` a reduction gives a 0-d tensor; ops that return
// values and indices give `{ values, indices }` like PyTorch's named tuples.
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { dtypeCode, type DType } from '../dtype.js';
import { aten, checkBool, checkInt, checkIntOrInts, checkOptionKeys, tid, wrap } from './registry.js';

export interface ReduceOptions {
  dim?: number | number[];
  keepdim?: boolean;
}
export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

/** `dim` as a list: one integer, or an array of them (empty: every dimension, for amax and countNonzero). */
function dims(op: string, dim: number | number[]): number[] {
  return checkIntOrInts(op, 'dim', dim);
}

function keep(op: string, options: { keepdim?: boolean } | undefined): boolean {
  return options?.keepdim === undefined ? false : checkBool(op, 'keepdim', options.keepdim);
}

const SUM = aten('sum');
const SUM_DIM = aten('sum', 'dim_IntList');
export function sum(input: Tensor, options?: ReduceOptions & { dtype?: DType }): Tensor {
  checkOptionKeys('torch.sum', options, ['dim', 'keepdim', 'dtype']);
  const id = tid(input, 'torch.sum', 'input');
  const dt = options?.dtype ? dtypeCode(options.dtype, 'torch.sum') : null;
  if (options?.dim === undefined) return wrap(native.call(SUM, id, dt));
  return wrap(native.call(SUM_DIM, id, dims('torch.sum', options.dim), keep('torch.sum', options), dt));
}

const MEAN = aten('mean');
const MEAN_DIM = aten('mean', 'dim');
export function mean(input: Tensor, options?: ReduceOptions & { dtype?: DType }): Tensor {
  checkOptionKeys('torch.mean', options, ['dim', 'keepdim', 'dtype']);
  const id = tid(input, 'torch.mean', 'input');
  const dt = options?.dtype ? dtypeCode(options.dtype, 'torch.mean') : null;
  if (options?.dim === undefined) return wrap(native.call(MEAN, id, dt));
  return wrap(native.call(MEAN_DIM, id, dims('torch.mean', options.dim), keep('torch.mean', options), dt));
}

const PROD = aten('prod');
const PROD_DIM = aten('prod', 'dim_int');
export function prod(input: Tensor, options?: { dim?: number; keepdim?: boolean }): Tensor {
  checkOptionKeys('torch.prod', options, ['dim', 'keepdim']);
  const id = tid(input, 'torch.prod', 'input');
  if (options?.dim === undefined) return wrap(native.call(PROD, id));
  return wrap(native.call(PROD_DIM, id, checkInt('torch.prod', 'dim', options.dim), keep('torch.prod', options)));
}

function minMax(name: 'max' | 'min') {
  const all = aten(name);
  const byDim = aten(name, 'dim');
  const pair = aten(name === 'max' ? 'maximum' : 'minimum');
  const js = `torch.${name}`;
  function f(input: Tensor): Tensor;
  function f(input: Tensor, other: Tensor): Tensor;
  function f(input: Tensor, options: { dim: number; keepdim?: boolean }): ValuesIndices;
  function f(input: Tensor, arg?: Tensor | { dim: number; keepdim?: boolean }): Tensor | ValuesIndices {
    const id = tid(input, js, 'input');
    if (arg === undefined) return wrap(native.call(all, id));
    if (arg instanceof Tensor) return wrap(native.call(pair, id, tid(arg, js, 'other')));
    checkOptionKeys(js, arg, ['dim', 'keepdim']);
    const [v, i] = native.call(byDim, id, checkInt(js, 'dim', arg.dim), keep(js, arg)) as [number, number];
    return { values: wrap(v), indices: wrap(i) };
  }
  return f;
}
/** max(x) is the largest value; max(x, other) the element-wise maximum; max(x, { dim }) values and indices. */
export const max = minMax('max');
export const min = minMax('min');

function argReduce(name: string) {
  const h = aten(name);
  return (input: Tensor, options?: { dim?: number; keepdim?: boolean }): Tensor => {
    checkOptionKeys(`torch.${name}`, options, ['dim', 'keepdim']);
    const dim = options?.dim === undefined ? null : checkInt(`torch.${name}`, 'dim', options.dim);
    return wrap(native.call(h, tid(input, `torch.${name}`, 'input'), dim, keep(`torch.${name}`, options)));
  };
}
export const argmax = argReduce('argmax');
export const argmin = argReduce('argmin');

function amaxmin(name: string) {
  const h = aten(name);
  return (input: Tensor, options?: ReduceOptions): Tensor => {
    checkOptionKeys(`torch.${name}`, options, ['dim', 'keepdim']);
    const d = options?.dim === undefined ? [] : dims(`torch.${name}`, options.dim);
    return wrap(native.call(h, tid(input, `torch.${name}`, 'input'), d, keep(`torch.${name}`, options)));
  };
}
export const amax = amaxmin('amax');
export const amin = amaxmin('amin');

function stdVar(name: 'std' | 'var') {
  const h = aten(name, 'correction');
  const js = `torch.${name}`;
  /** `correction` 1 (Bessel, the default) or 0 (population); `unbiased: false` means 0. */
  return (input: Tensor, options?: ReduceOptions & { unbiased?: boolean; correction?: number }): Tensor => {
    checkOptionKeys(js, options, ['dim', 'keepdim', 'unbiased', 'correction']);
    const correction = options?.correction ?? (options?.unbiased === false ? 0 : 1);
    const d = options?.dim === undefined ? null : dims(js, options.dim);
    return wrap(native.call(h, tid(input, js, 'input'), d, checkInt(js, 'correction', correction), keep(js, options)));
  };
}
export const std = stdVar('std');
export const variance = stdVar('var');

const ALL = aten('all');
const ALL_DIM = aten('all', 'dim');
const ANY = aten('any');
const ANY_DIM = aten('any', 'dim');
export function all(input: Tensor, options?: { dim?: number; keepdim?: boolean }): Tensor {
  checkOptionKeys('torch.all', options, ['dim', 'keepdim']);
  const id = tid(input, 'torch.all', 'input');
  if (options?.dim === undefined) return wrap(native.call(ALL, id));
  return wrap(native.call(ALL_DIM, id, checkInt('torch.all', 'dim', options.dim), keep('torch.all', options)));
}
export function any(input: Tensor, options?: { dim?: number; keepdim?: boolean }): Tensor {
  checkOptionKeys('torch.any', options, ['dim', 'keepdim']);
  const id = tid(input, 'torch.any', 'input');
  if (options?.dim === undefined) return wrap(native.call(ANY, id));
  return wrap(native.call(ANY_DIM, id, checkInt('torch.any', 'dim', options.dim), keep('torch.any', options)));
}

const NORM = aten('linalg_vector_norm');
/** The p-norm over all elements or over `dim` (linalg.vector_norm). */
export function norm(input: Tensor, options?: ReduceOptions & { p?: number }): Tensor {
  checkOptionKeys('torch.norm', options, ['dim', 'keepdim', 'p']);
  const d = options?.dim === undefined ? null : dims('torch.norm', options.dim);
  return wrap(native.call(NORM, tid(input, 'torch.norm', 'input'), options?.p ?? 2, d, keep('torch.norm', options), null));
}

const LOGSUMEXP = aten('logsumexp');
export function logsumexp(input: Tensor, dim: number | number[], options?: { keepdim?: boolean }): Tensor {
  checkOptionKeys('torch.logsumexp', options, ['keepdim']);
  return wrap(
    native.call(LOGSUMEXP, tid(input, 'torch.logsumexp', 'input'), dims('torch.logsumexp', dim), keep('torch.logsumexp', options)),
  );
}

const CUMSUM = aten('cumsum');
const CUMPROD = aten('cumprod');
export function cumsum(input: Tensor, dim: number, options?: { dtype?: DType }): Tensor {
  checkOptionKeys('torch.cumsum', options, ['dtype']);
  const dt = options?.dtype ? dtypeCode(options.dtype, 'torch.cumsum') : null;
  return wrap(native.call(CUMSUM, tid(input, 'torch.cumsum', 'input'), checkInt('torch.cumsum', 'dim', dim), dt));
}
export function cumprod(input: Tensor, dim: number, options?: { dtype?: DType }): Tensor {
  checkOptionKeys('torch.cumprod', options, ['dtype']);
  const dt = options?.dtype ? dtypeCode(options.dtype, 'torch.cumprod') : null;
  return wrap(native.call(CUMPROD, tid(input, 'torch.cumprod', 'input'), checkInt('torch.cumprod', 'dim', dim), dt));
}

const TOPK = aten('topk');
export function topk(input: Tensor, k: number, options?: { dim?: number; largest?: boolean; sorted?: boolean }): ValuesIndices {
  checkOptionKeys('torch.topk', options, ['dim', 'largest', 'sorted']);
  const [v, i] = native.call(
    TOPK,
    tid(input, 'torch.topk', 'input'),
    checkInt('torch.topk', 'k', k),
    options?.dim ?? -1,
    options?.largest ?? true,
    options?.sorted ?? true,
  ) as [number, number];
  return { values: wrap(v), indices: wrap(i) };
}

const SORT = aten('sort', 'stable');
export function sort(input: Tensor, options?: { dim?: number; descending?: boolean; stable?: boolean }): ValuesIndices {
  checkOptionKeys('torch.sort', options, ['dim', 'descending', 'stable']);
  const [v, i] = native.call(
    SORT,
    tid(input, 'torch.sort', 'input'),
    options?.stable ?? false,
    options?.dim ?? -1,
    options?.descending ?? false,
  ) as [number, number];
  return { values: wrap(v), indices: wrap(i) };
}

const ARGSORT = aten('argsort');
export function argsort(input: Tensor, options?: { dim?: number; descending?: boolean }): Tensor {
  checkOptionKeys('torch.argsort', options, ['dim', 'descending']);
  return wrap(native.call(ARGSORT, tid(input, 'torch.argsort', 'input'), options?.dim ?? -1, options?.descending ?? false));
}

const ONE_HOT = aten('one_hot');
/** int64 class indices -> one-hot int64 tensor with a new last dimension. */
export function oneHot(input: Tensor, numClasses = -1): Tensor {
  return wrap(native.call(ONE_HOT, tid(input, 'torch.oneHot', 'input'), checkInt('torch.oneHot', 'numClasses', numClasses)));
}

const COUNT_NONZERO = aten('count_nonzero', 'dim_IntList');
export function countNonzero(input: Tensor, options?: { dim?: number | number[] }): Tensor {
  checkOptionKeys('torch.countNonzero', options, ['dim']);
  const d = options?.dim === undefined ? [] : dims('torch.countNonzero', options.dim);
  return wrap(native.call(COUNT_NONZERO, tid(input, 'torch.countNonzero', 'input'), d));
}

const BINCOUNT = aten('bincount');
export function bincount(input: Tensor, options?: { weights?: Tensor; minlength?: number }): Tensor {
  checkOptionKeys('torch.bincount', options, ['weights', 'minlength']);
  const w = options?.weights ? tid(options.weights, 'torch.bincount', 'weights') : null;
  return wrap(native.call(BINCOUNT, tid(input, 'torch.bincount', 'input'), w, options?.minlength ?? 0));
}

const AMINMAX = aten('aminmax');
/** The minimum and maximum in one pass (PyTorch's aminmax), over all elements or along `dim`. */
export function aminmax(input: Tensor, options?: { dim?: number; keepdim?: boolean }): { min: Tensor; max: Tensor } {
  checkOptionKeys('torch.aminmax', options, ['dim', 'keepdim']);
  const dim = options?.dim === undefined ? null : checkInt('torch.aminmax', 'dim', options.dim);
  const keepdim = options?.keepdim === undefined ? false : checkBool('torch.aminmax', 'keepdim', options.keepdim);
  const [lo, hi] = native.call(AMINMAX, tid(input, 'torch.aminmax', 'input'), dim, keepdim) as [number, number];
  return { min: wrap(lo), max: wrap(hi) };
}
