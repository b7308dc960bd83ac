// Factories. JS cannot write `1.0`, so factories from plain numbers default to float32 (what
// segmentation code wants) unless a dtype is given; arange follows PyTorch (int64 for integers).
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { dtypeCode, dtypeOfTypedArray, isFloatingDType, DTYPE_CODE, ITEM_SIZE, type DType } from '../dtype.js';
import { aten, checkInt, checkInts, checkNumber, checkOptions, tid, wrap } from './registry.js';
import { to } from './conversion.js';

export interface FactoryOptions { dtype?: DType; device?: string; requiresGrad?: boolean }
const FACTORY_KEYS = ['dtype', 'device', 'requiresGrad'] as const;

type Nested = number | boolean | Nested[];
export type TensorData = Nested | ArrayBufferView | bigint[];

function checkRequiresGrad(options: FactoryOptions | undefined, dtype: DType, op: string): void {
  if (options?.requiresGrad && !isFloatingDType(dtype)) {
    throw new TypeError(`${op}: requiresGrad needs a floating point dtype, got ${dtype} (only floating point tensors can have gradients)`);
  }
}

/** Applies requiresGrad; frees the new tensor if that fails, so a bad call leaks nothing. */
function finish(t: Tensor, options: FactoryOptions | undefined, op = 'torch.tensor'): Tensor {
  if (options?.requiresGrad) {
    try {
      checkRequiresGrad(options, t.dtype, op);
      t.requiresGrad_(true);
    } catch (e) {
      t.dispose();
      throw e;
    }
  }
  return t;
}

function deviceArg(options: FactoryOptions | undefined, op: string): string | null {
  const d = options?.device;
  if (d === undefined || d === 'cpu') return null;
  if (typeof d !== 'string') throw new TypeError(`${op}: device must be a string like 'cpu' or 'cuda:0', got ${typeof d}`);
  if (d.startsWith('cuda') && !native.info().cuda) {
    throw new Error(`${op}: device '${d}' requested but this libtorch build has no CUDA (see \`segkit info\`)`);
  }
  return d;
}

function flattenNested(data: Nested, op: string): { shape: number[]; values: (number | boolean)[] } {
  const shape: number[] = [];
  let probe: Nested = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0]!;
  }
  const values: (number | boolean)[] = [];
  const walk = (x: Nested, d: number, path: string): void => {
    if (d === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new TypeError(`${op}: expected a number or boolean at data${path}, got ${Array.isArray(x) ? 'an array' : typeof x}`);
      }
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) {
      throw new RangeError(`${op}: ragged nested array: data${path} should be an array of length ${shape[d]}, got ${Array.isArray(x) ? `length ${x.length}` : typeof x}`);
    }
    x.forEach((v, i) => walk(v, d + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return { shape, values };
}

/**
 * A tensor from numbers, booleans, nested arrays or a typed array (copied). The dtype comes
 * from the typed array, else float32 for numbers and bool for booleans; `shape` reshapes flat data.
 */
export function tensor(data: TensorData, options?: FactoryOptions & { shape?: readonly number[] }): Tensor {
  const op = 'torch.tensor';
  checkOptions(options, [...FACTORY_KEYS, 'shape'], op);
  if (options?.dtype !== undefined) dtypeCode(options.dtype, op);
  const dev = deviceArg(options, op);
  const shape = options?.shape === undefined ? undefined : sizeArg(options.shape, op);
  let values: ArrayBufferView;
  let src: DType;
  let inferredShape: number[];
  if (ArrayBuffer.isView(data)) {
    const d = dtypeOfTypedArray(data);
    if (d === undefined) throw new TypeError(`${op}: unsupported typed array ${data.constructor.name}`);
    src = d;
    values = data;
    inferredShape = [data.byteLength / ITEM_SIZE[d]];
  } else if (Array.isArray(data) && data.length > 0 && typeof data[0] === 'bigint') {
    if (!data.every((v) => typeof v === 'bigint')) throw new TypeError(`${op}: an array of bigints must hold only bigints`);
    src = 'int64';
    values = BigInt64Array.from(data as bigint[]);
    inferredShape = [data.length];
  } else {
    const flat = flattenNested(data as Nested, op);
    const isBool = flat.values.length > 0 && flat.values.every((v) => typeof v === 'boolean');
    // float64 holds every float32 and every integer up to 2^53 exactly, so one conversion suffices.
    src = isBool ? 'bool' : 'float64';
    values = isBool ? Uint8Array.from(flat.values, (v) => (v ? 1 : 0)) : Float64Array.from(flat.values, (v) => Number(v));
    inferredShape = flat.shape;
  }
  const count = values.byteLength / ITEM_SIZE[src];
  const finalShape = shape ?? inferredShape;
  const need = finalShape.reduce((a, b) => a * b, 1);
  if (need !== count) {
    throw new RangeError(`${op}: ${count} values cannot fill shape [${finalShape.join(', ')}] (${need} elements)`);
  }
  const target: DType = options?.dtype ?? (src === 'float64' && !(data instanceof Float64Array) ? 'float32' : src);
  checkRequiresGrad(options, target, op);
  let t = wrap(native.fromBuffer(values, DTYPE_CODE[src], finalShape));
  try {
    if (t.dtype !== target) t = replace(t, to(t, { dtype: target }));
    if (dev) t = replace(t, to(t, { device: dev }));
  } catch (e) {
    t.dispose();
    throw e;
  }
  return finish(t, options);
}

function replace(old: Tensor, next: Tensor): Tensor {
  old.dispose();
  return next;
}

function sizeArg(shape: unknown, op: string): number[] {
  const s = typeof shape === 'number' ? checkInts([shape], op, 'shape') : checkInts(shape, op, 'shape');
  for (const d of s) if (d < 0) throw new RangeError(`${op}: shape must hold non-negative sizes, got [${s.join(', ')}]`);
  let n = 1;
  for (const d of s) n *= d;
  if (n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${op}: shape [${s.join(', ')}] has ${n} elements: cannot allocate that many (the size overflows)`);
  }
  return s;
}

function factory(name: string, overload = '') {
  const h = aten(name, overload);
  return (shape: readonly number[] | number, options?: FactoryOptions): Tensor => {
    const op = `torch.${name}`;
    checkOptions(options, FACTORY_KEYS, op);
    const dt = dtypeCode(options?.dtype ?? 'float32', op);
    checkRequiresGrad(options, options?.dtype ?? 'float32', op);
    return finish(wrap(native.call(h, sizeArg(shape, op), dt, null, deviceArg(options, op), null)), options, op);
  };
}
export const zeros = factory('zeros');
export const ones = factory('ones');
export const rand = factory('rand');
export const randn = factory('randn');

const EMPTY = aten('empty', 'memory_format');
export function empty(shape: readonly number[] | number, options?: FactoryOptions): Tensor {
  checkOptions(options, FACTORY_KEYS, 'torch.empty');
  const dt = dtypeCode(options?.dtype ?? 'float32', 'torch.empty');
  checkRequiresGrad(options, options?.dtype ?? 'float32', 'torch.empty');
  return finish(wrap(native.call(EMPTY, sizeArg(shape, 'torch.empty'), dt, null, deviceArg(options, 'torch.empty'), null, null)), options, 'torch.empty');
}

const FULL = aten('full');
export function full(shape: readonly number[] | number, fillValue: number | boolean, options?: FactoryOptions, op = 'torch.full'): Tensor {
  checkOptions(options, FACTORY_KEYS, op);
  if (typeof fillValue !== 'number' && typeof fillValue !== 'boolean') {
    throw new TypeError(`${op}: fillValue must be a number or boolean, got ${typeof fillValue}`);
  }
  const dtype = options?.dtype ?? (typeof fillValue === 'boolean' ? 'bool' : 'float32');
  const dt = dtypeCode(dtype, op);
  checkRequiresGrad(options, dtype, op);
  return finish(wrap(native.call(FULL, sizeArg(shape, op), fillValue, dt, null, deviceArg(options, op), null)), options, op);
}

const ARANGE = aten('arange', 'start_step');
/** arange(end) or arange(start, end, step?): int64 when all are integers, else float32. */
export function arange(startOrEnd: number, end?: number | FactoryOptions, step?: number | FactoryOptions, options?: FactoryOptions): Tensor {
  let s = 0, e: number, st = 1, opts = options;
  if (typeof end !== 'number') {
    e = startOrEnd;
    opts = end;
  } else {
    s = startOrEnd;
    e = end;
    if (typeof step === 'number') st = step;
    else opts = step;
  }
  checkOptions(opts, FACTORY_KEYS, 'torch.arange');
  for (const [k, v] of [['start', s], ['end', e], ['step', st]] as const) checkNumber(v, 'torch.arange', k);
  if (st === 0) throw new RangeError('torch.arange: step must be nonzero');
  const allInt = Number.isInteger(s) && Number.isInteger(e) && Number.isInteger(st);
  const dt = dtypeCode(opts?.dtype ?? (allInt ? 'int64' : 'float32'), 'torch.arange');
  return finish(wrap(native.call(ARANGE, s, e, st, dt, null, deviceArg(opts, 'torch.arange'), null)), opts, 'torch.arange');
}

const LINSPACE = aten('linspace');
export function linspace(start: number, end: number, steps: number, options?: FactoryOptions): Tensor {
  checkOptions(options, FACTORY_KEYS, 'torch.linspace');
  const dt = dtypeCode(options?.dtype ?? 'float32', 'torch.linspace');
  return finish(wrap(native.call(LINSPACE, checkNumber(start, 'torch.linspace', 'start'), checkNumber(end, 'torch.linspace', 'end'),
    checkInt(steps, 'torch.linspace', 'steps'), dt, null, deviceArg(options, 'torch.linspace'), null)), options, 'torch.linspace');
}

const EYE_M = aten('eye', 'm');
export function eye(n: number, m?: number | FactoryOptions, options?: FactoryOptions): Tensor {
  const cols = typeof m === 'number' ? m : n;
  const opts = typeof m === 'number' ? options : m;
  checkOptions(opts, FACTORY_KEYS, 'torch.eye');
  const dt = dtypeCode(opts?.dtype ?? 'float32', 'torch.eye');
  return finish(wrap(native.call(EYE_M, checkInt(n, 'torch.eye', 'n'), checkInt(cols, 'torch.eye', 'm'), dt, null, deviceArg(opts, 'torch.eye'), null)), opts, 'torch.eye');
}

const RANDINT = aten('randint', 'low');
/** Integers in [low, high), int64 unless a dtype is given. */
export function randint(low: number, high: number, shape: readonly number[] | number, options?: FactoryOptions): Tensor {
  checkOptions(options, FACTORY_KEYS, 'torch.randint');
  if (checkInt(high, 'torch.randint', 'high') <= checkInt(low, 'torch.randint', 'low')) {
    throw new RangeError(`torch.randint: high must be greater than low, got low=${low}, high=${high}`);
  }
  const dt = dtypeCode(options?.dtype ?? 'int64', 'torch.randint');
  return finish(wrap(native.call(RANDINT, low, high, sizeArg(shape, 'torch.randint'), dt, null, deviceArg(options, 'torch.randint'), null)), options, 'torch.randint');
}

const RANDPERM = aten('randperm');
export function randperm(n: number, options?: FactoryOptions): Tensor {
  const dt = dtypeCode(options?.dtype ?? 'int64', 'torch.randperm');
  return finish(wrap(native.call(RANDPERM, checkInt(n, 'torch.randperm', 'n'), dt, null, deviceArg(options, 'torch.randperm'), null)), options, 'torch.randperm');
}

function like(name: string) {
  const h = aten(name);
  return (input: Tensor, options?: FactoryOptions): Tensor => {
    const op = `torch.${name.replace(/_like$/, 'Like')}`;
    checkOptions(options, FACTORY_KEYS, op);
    const dt = options?.dtype ? dtypeCode(options.dtype, op) : null;
    const id = tid(input, op, 'input');
    checkRequiresGrad(options, options?.dtype ?? input.dtype, op);
    return finish(wrap(native.call(h, id, dt, null, deviceArg(options, op), null, null)), options, op);
  };
}
export const zerosLike = like('zeros_like');
export const onesLike = like('ones_like');
export const emptyLike = like('empty_like');
export const randLike = like('rand_like');
export const randnLike = like('randn_like');

const FULL_LIKE = aten('full_like');
export function fullLike(input: Tensor, fillValue: number, options?: FactoryOptions): Tensor {
  checkOptions(options, FACTORY_KEYS, 'torch.fullLike');
  const dt = options?.dtype ? dtypeCode(options.dtype, 'torch.fullLike') : null;
  return finish(wrap(native.call(FULL_LIKE, tid(input, 'torch.fullLike', 'input'), checkNumber(fillValue, 'torch.fullLike', 'fillValue'),
    dt, null, deviceArg(options, 'torch.fullLike'), null, null)), options, 'torch.fullLike');
}

/** A 0-d tensor holding one number. */
export function scalarTensor(value: number, options?: FactoryOptions): Tensor {
  return full([], value, options, 'torch.scalarTensor');
}
