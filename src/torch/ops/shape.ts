// Views, reshaping, joining and indexing. View ops share storage with their input, as in
// PyTorch; each returns its own handle, so disposing the input never invalidates a view.
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { memoryFormatCode, type MemoryFormat } from '../dtype.js';
import { checkChoice, invalidParameterError } from '../../validate.js';
import { aten, checkInt, checkIntOrInts, checkInts, checkOptionKeys, tid, tids, wrap, wrapAll } from './registry.js';

function shapeArg(op: string, shape: readonly number[] | number[]): number[] {
  return checkInts(op, 'shape', shape);
}

const VIEW = aten('view');
export function view(input: Tensor, shape: readonly number[]): Tensor {
  return wrap(native.call(VIEW, tid(input, 'view', 'input'), shapeArg('view', shape as number[])));
}

const RESHAPE = aten('reshape');
export function reshape(input: Tensor, shape: readonly number[]): Tensor {
  return wrap(native.call(RESHAPE, tid(input, 'torch.reshape', 'input'), shapeArg('torch.reshape', shape as number[])));
}

const PERMUTE = aten('permute');
export function permute(input: Tensor, dims: number[]): Tensor {
  return wrap(native.call(PERMUTE, tid(input, 'torch.permute', 'input'), checkInts('torch.permute', 'dims', dims)));
}

const TRANSPOSE = aten('transpose', 'int');
export function transpose(input: Tensor, dim0: number, dim1: number): Tensor {
  return wrap(
    native.call(
      TRANSPOSE,
      tid(input, 'torch.transpose', 'input'),
      checkInt('torch.transpose', 'dim0', dim0),
      checkInt('torch.transpose', 'dim1', dim1),
    ),
  );
}

const T = aten('t');
export function t(input: Tensor): Tensor {
  return wrap(native.call(T, tid(input, 'torch.t', 'input')));
}

const SQUEEZE = aten('squeeze');
const SQUEEZE_DIM = aten('squeeze', 'dim');
export function squeeze(input: Tensor, dim?: number): Tensor {
  const id = tid(input, 'torch.squeeze', 'input');
  return wrap(dim === undefined ? native.call(SQUEEZE, id) : native.call(SQUEEZE_DIM, id, checkInt('torch.squeeze', 'dim', dim)));
}

const UNSQUEEZE = aten('unsqueeze');
export function unsqueeze(input: Tensor, dim: number): Tensor {
  return wrap(native.call(UNSQUEEZE, tid(input, 'torch.unsqueeze', 'input'), checkInt('torch.unsqueeze', 'dim', dim)));
}

const FLATTEN = aten('flatten', 'using_ints');
export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  return wrap(
    native.call(
      FLATTEN,
      tid(input, 'torch.flatten', 'input'),
      checkInt('torch.flatten', 'startDim', startDim),
      checkInt('torch.flatten', 'endDim', endDim),
    ),
  );
}

const UNFLATTEN = aten('unflatten', 'int');
export function unflatten(input: Tensor, dim: number, sizes: number[]): Tensor {
  return wrap(
    native.call(
      UNFLATTEN,
      tid(input, 'torch.unflatten', 'input'),
      checkInt('torch.unflatten', 'dim', dim),
      checkInts('torch.unflatten', 'sizes', sizes),
    ),
  );
}

const EXPAND = aten('expand');
/** Broadcasts to `shape` without copying; -1 keeps a size. */
export function expand(input: Tensor, shape: readonly number[]): Tensor {
  return wrap(native.call(EXPAND, tid(input, 'expand', 'input'), shapeArg('expand', shape as number[]), false));
}
export function expandAs(input: Tensor, other: Tensor): Tensor {
  tid(other, 'expandAs', 'other');
  return expand(input, other.shape);
}

const NARROW = aten('narrow');
export function narrow(input: Tensor, dim: number, start: number, length: number): Tensor {
  return wrap(
    native.call(
      NARROW,
      tid(input, 'torch.narrow', 'input'),
      checkInt('torch.narrow', 'dim', dim),
      checkInt('torch.narrow', 'start', start),
      checkInt('torch.narrow', 'length', length),
    ),
  );
}

const SELECT = aten('select', 'int');
export function select(input: Tensor, dim: number, index: number): Tensor {
  return wrap(
    native.call(
      SELECT,
      tid(input, 'torch.select', 'input'),
      checkInt('torch.select', 'dim', dim),
      checkInt('torch.select', 'index', index),
    ),
  );
}

const SLICE = aten('slice', 'Tensor');
/** input[start:end:step] along `dim` (Python slice semantics; null means the end). */
export function slice(input: Tensor, dim = 0, start: number | null = null, end: number | null = null, step = 1): Tensor {
  return wrap(native.call(SLICE, tid(input, 'slice', 'input'), checkInt('slice', 'dim', dim), start, end, checkInt('slice', 'step', step)));
}

const INDEX_SELECT = aten('index_select');
export function indexSelect(input: Tensor, dim: number, index: Tensor): Tensor {
  return wrap(
    native.call(
      INDEX_SELECT,
      tid(input, 'torch.indexSelect', 'input'),
      checkInt('torch.indexSelect', 'dim', dim),
      tid(index, 'torch.indexSelect', 'index'),
    ),
  );
}

const INDEX = aten('index', 'Tensor');
/** Advanced indexing `input[i0, i1, ...]` with index tensors (null skips a dimension). */
export function index(input: Tensor, indices: (Tensor | null)[]): Tensor {
  if (!Array.isArray(indices)) throw invalidParameterError('torch.index', 'indices', 'an array of Tensors or nulls', indices);
  const ids = indices.map((x, i) => (x === null ? null : tid(x, 'torch.index', `indices[${i}]`)));
  return wrap(native.call(INDEX, tid(input, 'torch.index', 'input'), ids));
}

const GATHER = aten('gather');
export function gather(input: Tensor, dim: number, index: Tensor): Tensor {
  return wrap(
    native.call(
      GATHER,
      tid(input, 'torch.gather', 'input'),
      checkInt('torch.gather', 'dim', dim),
      tid(index, 'torch.gather', 'index'),
      false,
    ),
  );
}

const SCATTER_SRC = aten('scatter', 'src');
const SCATTER_VALUE = aten('scatter', 'value');
const SCATTER_REDUCE = aten('scatter', 'reduce');
const SCATTER_VALUE_REDUCE = aten('scatter', 'value_reduce');
const SCATTER_REDUCTIONS = ['add', 'multiply'] as const;
/** Out-of-place scatter of `src` (a tensor or a number) at `index` along `dim`; reduce 'add' | 'multiply'. */
export function scatter(
  input: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor | number,
  options?: { reduce?: 'add' | 'multiply' },
): Tensor {
  checkOptionKeys('torch.scatter', options, ['reduce']);
  const a = tid(input, 'torch.scatter', 'input');
  const d = checkInt('torch.scatter', 'dim', dim);
  const i = tid(index, 'torch.scatter', 'index');
  const r = options?.reduce === undefined ? undefined : checkChoice('torch.scatter', 'reduce', options.reduce, SCATTER_REDUCTIONS);
  if (typeof src === 'number')
    return wrap(r ? native.call(SCATTER_VALUE_REDUCE, a, d, i, src, r) : native.call(SCATTER_VALUE, a, d, i, src));
  const s = tid(src, 'torch.scatter', 'src');
  return wrap(r ? native.call(SCATTER_REDUCE, a, d, i, s, r) : native.call(SCATTER_SRC, a, d, i, s));
}

const SCATTER_ADD = aten('scatter_add');
export function scatterAdd(input: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return wrap(
    native.call(
      SCATTER_ADD,
      tid(input, 'torch.scatterAdd', 'input'),
      checkInt('torch.scatterAdd', 'dim', dim),
      tid(index, 'torch.scatterAdd', 'index'),
      tid(src, 'torch.scatterAdd', 'src'),
    ),
  );
}

const MASKED_FILL_S = aten('masked_fill', 'Scalar');
const MASKED_FILL_T = aten('masked_fill', 'Tensor');
export function maskedFill(input: Tensor, mask: Tensor, value: Tensor | number): Tensor {
  const a = tid(input, 'torch.maskedFill', 'input');
  const m = tid(mask, 'torch.maskedFill', 'mask');
  // libtorch 1.13 silently ignores a non-bool mask (nothing is filled); newer PyTorch refuses it.
  if (mask.dtype !== 'bool')
    throw new TypeError(`torch.maskedFill: mask must be a bool tensor, got ${mask.dtype} (compare first, e.g. m.gt(0))`);
  return wrap(
    typeof value === 'number'
      ? native.call(MASKED_FILL_S, a, m, value)
      : native.call(MASKED_FILL_T, a, m, tid(value, 'torch.maskedFill', 'value')),
  );
}

const MASKED_SELECT = aten('masked_select');
export function maskedSelect(input: Tensor, mask: Tensor): Tensor {
  return wrap(native.call(MASKED_SELECT, tid(input, 'torch.maskedSelect', 'input'), tid(mask, 'torch.maskedSelect', 'mask')));
}

const NONZERO = aten('nonzero');
export function nonzero(input: Tensor): Tensor {
  return wrap(native.call(NONZERO, tid(input, 'torch.nonzero', 'input')));
}

const CAT = aten('cat');
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(native.call(CAT, tids(tensors, 'torch.cat', 'tensors'), checkInt('torch.cat', 'dim', dim)));
}

const STACK = aten('stack');
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(native.call(STACK, tids(tensors, 'torch.stack', 'tensors'), checkInt('torch.stack', 'dim', dim)));
}

const SPLIT = aten('split', 'Tensor');
const SPLIT_SIZES = aten('split_with_sizes');
/** Splits into chunks of `splitSize`, or into pieces of the given sizes. */
export function split(input: Tensor, splitSize: number | number[], dim = 0): Tensor[] {
  const id = tid(input, 'torch.split', 'input');
  const d = checkInt('torch.split', 'dim', dim);
  if (typeof splitSize === 'number') return wrapAll(native.call(SPLIT, id, checkInt('torch.split', 'splitSize', splitSize), d));
  return wrapAll(native.call(SPLIT_SIZES, id, checkInts('torch.split', 'splitSize', splitSize), d));
}

const CHUNK = aten('chunk');
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  return wrapAll(
    native.call(CHUNK, tid(input, 'torch.chunk', 'input'), checkInt('torch.chunk', 'chunks', chunks), checkInt('torch.chunk', 'dim', dim)),
  );
}

const UNBIND = aten('unbind', 'int');
export function unbind(input: Tensor, dim = 0): Tensor[] {
  return wrapAll(native.call(UNBIND, tid(input, 'torch.unbind', 'input'), checkInt('torch.unbind', 'dim', dim)));
}

const FLIP = aten('flip');
export function flip(input: Tensor, dims: number | number[]): Tensor {
  return wrap(native.call(FLIP, tid(input, 'torch.flip', 'input'), checkIntOrInts('torch.flip', 'dims', dims)));
}

const ROT90 = aten('rot90');
/** Rotates by k * 90 degrees in the plane of `dims` (from the first towards the second axis). */
export function rot90(input: Tensor, k = 1, dims: [number, number] = [0, 1]): Tensor {
  return wrap(
    native.call(ROT90, tid(input, 'torch.rot90', 'input'), checkInt('torch.rot90', 'k', k), checkInts('torch.rot90', 'dims', dims, 2)),
  );
}

const ROLL = aten('roll');
export function roll(input: Tensor, shifts: number | number[], dims: number | number[] = []): Tensor {
  const s = checkIntOrInts('torch.roll', 'shifts', shifts);
  const d = checkIntOrInts('torch.roll', 'dims', dims);
  return wrap(native.call(ROLL, tid(input, 'torch.roll', 'input'), s, d));
}

const REPEAT = aten('repeat');
export function repeat(input: Tensor, repeats: number[]): Tensor {
  return wrap(native.call(REPEAT, tid(input, 'repeat', 'input'), checkInts('repeat', 'repeats', repeats)));
}

const TRIL = aten('tril');
const TRIU = aten('triu');
export function tril(input: Tensor, diagonal = 0): Tensor {
  return wrap(native.call(TRIL, tid(input, 'torch.tril', 'input'), checkInt('torch.tril', 'diagonal', diagonal)));
}
export function triu(input: Tensor, diagonal = 0): Tensor {
  return wrap(native.call(TRIU, tid(input, 'torch.triu', 'input'), checkInt('torch.triu', 'diagonal', diagonal)));
}

const CONTIGUOUS = aten('contiguous');
export function contiguous(input: Tensor, options?: { memoryFormat?: MemoryFormat }): Tensor {
  checkOptionKeys('contiguous', options, ['memoryFormat']);
  const f = memoryFormatCode(options?.memoryFormat ?? 'contiguous', 'contiguous');
  return wrap(native.call(CONTIGUOUS, tid(input, 'contiguous', 'input'), f));
}

const CLONE = aten('clone');
export function clone(input: Tensor, options?: { memoryFormat?: MemoryFormat }): Tensor {
  checkOptionKeys('torch.clone', options, ['memoryFormat']);
  const f = options?.memoryFormat ? memoryFormatCode(options.memoryFormat, 'clone') : null;
  return wrap(native.call(CLONE, tid(input, 'torch.clone', 'input'), f));
}

const DETACH = aten('detach');
export function detach(input: Tensor): Tensor {
  return wrap(native.call(DETACH, tid(input, 'detach', 'input')));
}

/** Shares storage with `other` (a view or the same data)? Useful in tests of view semantics. */
export function sharesStorage(a: Tensor, b: Tensor): boolean {
  return native.sameStorage(tid(a, 'sharesStorage', 'a'), tid(b, 'sharesStorage', 'b'));
}

const DIAGONAL = aten('diagonal');
/** A view of the diagonal of the (dim1, dim2) planes, shifted by `offset` (PyTorch's diagonal). */
export function diagonal(input: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  return wrap(
    native.call(
      DIAGONAL,
      tid(input, 'torch.diagonal', 'input'),
      checkInt('torch.diagonal', 'offset', offset),
      checkInt('torch.diagonal', 'dim1', dim1),
      checkInt('torch.diagonal', 'dim2', dim2),
    ),
  );
}
