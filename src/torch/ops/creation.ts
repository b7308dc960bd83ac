// Factories. JS cannot write `1.0`, so factories from plain numbers default to float32 (what
// segmentation code wants) unless a dtype is given; arange follows PyTorch (int64 for integers).
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { dtypeCode, dtypeOfTypedArray, isFloatingDType, DTYPE_CODE, ITEM_SIZE, type DType } from '../dtype.js';
import { invalidParameterError, outOfRangeError, show } from '../../validate.js';
import { aten, checkDevice, checkInt, checkIntOrInts, checkNumber, checkOptionKeys, tid, wrap } from './registry.js';
import { to } from './conversion.js';

export interface FactoryOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}
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
  return d === undefined || d === 'cpu' ? null : checkDevice(op, d);
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
      if (typeof x !== 'number' && typeof x !== 'boolean') throw invalidParameterError(op, `data${path}`, 'a number or boolean', x);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) {
      throw new RangeError(
        `${op}: ragged nested array: data${path} should be an array of length ${shape[d]}, got ${Array.isArray(x) ? `length ${x.length}` : show(x)}`,
      );
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
  checkOptionKeys(op, options, [...FACTORY_KEYS, 'shape']);
  if (options?.dtype !== undefined) dtypeCode(options.dtype, op);
  const dev = deviceArg(options, op);
  const shape = options?.shape === undefined ? undefined : sizeArg(options.shape, op);
  let values: ArrayBufferView;
  let src: DType;
  let inferredShape: number[];
  if (ArrayBuffer.isView(data)) {
    const d = dtypeOfTypedArray(data);
    if (d === undefined)
      throw invalidParameterError(
        op,
        'data',
        'a Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array',
        data,
      );
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
  const s = checkIntOrInts(op, 'shape', shape);
  let n = 1;
  for (const d of s) {
    if (d < 0) throw outOfRangeError(op, 'shape', 'a non-negative integer or an array of them', shape);
    n *= d;
  }
  if (n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${op}: shape [${s.join(', ')}] has ${n} elements: cannot allocate that many (the size overflows)`);
  }
  return s;
}

function factory(name: string, overload = '') {
  const h = aten(name, overload);
  return (shape: readonly number[] | number, options?: FactoryOptions): Tensor => {
    const op = `torch.${name}`;
    checkOptionKeys(op, options, FACTORY_KEYS);
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
  checkOptionKeys('torch.empty', options, FACTORY_KEYS);
  const dt = dtypeCode(options?.dtype ?? 'float32', 'torch.empty');
  checkRequiresGrad(options, options?.dtype ?? 'float32', 'torch.empty');
  return finish(
    wrap(native.call(EMPTY, sizeArg(shape, 'torch.empty'), dt, null, deviceArg(options, 'torch.empty'), null, null)),
    options,
    'torch.empty',
  );
}

const FULL = aten('full');
export function full(shape: readonly number[] | number, fillValue: number | boolean, options?: FactoryOptions, op = 'torch.full'): Tensor {
  checkOptionKeys(op, options, FACTORY_KEYS);
  if (typeof fillValue !== 'number' && typeof fillValue !== 'boolean')
    throw invalidParameterError(op, 'fillValue', 'a number or boolean', fillValue);
  const dtype = options?.dtype ?? (typeof fillValue === 'boolean' ? 'bool' : 'float32');
  const dt = dtypeCode(dtype, op);
  checkRequiresGrad(options, dtype, op);
  return finish(wrap(native.call(FULL, sizeArg(shape, op), fillValue, dt, null, deviceArg(options, op), null)), options, op);
}

const ARANGE = aten('arange', 'start_step');
/** arange(end) or arange(start, end, step?): int64 when all are integers, else float32. */
export function arange(
  startOrEnd: number,
  end?: number | FactoryOptions,
  step?: number | FactoryOptions,
  options?: FactoryOptions,
): Tensor {
  let s = 0,
    e: number,
    st = 1,
    opts = options;
  if (typeof end !== 'number') {
    e = startOrEnd;
    opts = end;
  } else {
    s = startOrEnd;
    e = end;
    if (typeof step === 'number') st = step;
    else opts = step;
  }
  checkOptionKeys('torch.arange', opts, FACTORY_KEYS);
  for (const [k, v] of [
    ['start', s],
    ['end', e],
    ['step', st],
  ] as const)
    checkNumber('torch.arange', k, v);
  if (st === 0) throw outOfRangeError('torch.arange', 'step', 'a nonzero number', st);
  const allInt = Number.isInteger(s) && Number.isInteger(e) && Number.isInteger(st);
  const dt = dtypeCode(opts?.dtype ?? (allInt ? 'int64' : 'float32'), 'torch.arange');
  return finish(wrap(native.call(ARANGE, s, e, st, dt, null, deviceArg(opts, 'torch.arange'), null)), opts, 'torch.arange');
}

const LINSPACE = aten('linspace');
export function linspace(start: number, end: number, steps: number, options?: FactoryOptions): Tensor {
  checkOptionKeys('torch.linspace', options, FACTORY_KEYS);
  const dt = dtypeCode(options?.dtype ?? 'float32', 'torch.linspace');
  return finish(
    wrap(
      native.call(
        LINSPACE,
        checkNumber('torch.linspace', 'start', start),
        checkNumber('torch.linspace', 'end', end),
        checkInt('torch.linspace', 'steps', steps),
        dt,
        null,
        deviceArg(options, 'torch.linspace'),
        null,
      ),
    ),
    options,
    'torch.linspace',
  );
}

const EYE_M = aten('eye', 'm');
export function eye(n: number, m?: number | FactoryOptions, options?: FactoryOptions): Tensor {
  const cols = typeof m === 'number' ? m : n;
  const opts = typeof m === 'number' ? options : m;
  checkOptionKeys('torch.eye', opts, FACTORY_KEYS);
  const dt = dtypeCode(opts?.dtype ?? 'float32', 'torch.eye');
  return finish(
    wrap(native.call(EYE_M, checkInt('torch.eye', 'n', n), checkInt('torch.eye', 'm', cols), dt, null, deviceArg(opts, 'torch.eye'), null)),
    opts,
    'torch.eye',
  );
}

const RANDINT = aten('randint', 'low');
/** Integers in [low, high), int64 unless a dtype is given. */
export function randint(low: number, high: number, shape: readonly number[] | number, options?: FactoryOptions): Tensor {
  checkOptionKeys('torch.randint', options, FACTORY_KEYS);
  if (checkInt('torch.randint', 'high', high) <= checkInt('torch.randint', 'low', low)) {
    throw new RangeError(`torch.randint: high must be greater than low, got low=${low}, high=${high}`);
  }
  const dt = dtypeCode(options?.dtype ?? 'int64', 'torch.randint');
  return finish(
    wrap(native.call(RANDINT, low, high, sizeArg(shape, 'torch.randint'), dt, null, deviceArg(options, 'torch.randint'), null)),
    options,
    'torch.randint',
  );
}

const RANDPERM = aten('randperm');
export function randperm(n: number, options?: FactoryOptions): Tensor {
  checkOptionKeys('torch.randperm', options, FACTORY_KEYS);
  const dt = dtypeCode(options?.dtype ?? 'int64', 'torch.randperm');
  return finish(
    wrap(native.call(RANDPERM, checkInt('torch.randperm', 'n', n), dt, null, deviceArg(options, 'torch.randperm'), null)),
    options,
    'torch.randperm',
  );
}

function like(name: string) {
  const h = aten(name);
  return (input: Tensor, options?: FactoryOptions): Tensor => {
    const op = `torch.${name.replace(/_like$/, 'Like')}`;
    checkOptionKeys(op, options, FACTORY_KEYS);
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
  checkOptionKeys('torch.fullLike', options, FACTORY_KEYS);
  const dt = options?.dtype ? dtypeCode(options.dtype, 'torch.fullLike') : null;
  return finish(
    wrap(
      native.call(
        FULL_LIKE,
        tid(input, 'torch.fullLike', 'input'),
        checkNumber('torch.fullLike', 'fillValue', fillValue),
        dt,
        null,
        deviceArg(options, 'torch.fullLike'),
        null,
        null,
      ),
    ),
    options,
    'torch.fullLike',
  );
}

/** A 0-d tensor holding one number. */
export function scalarTensor(value: number, options?: FactoryOptions): Tensor {
  return full([], value, options, 'torch.scalarTensor');
}
