// Shared by the layer files: argument checks that name the layer, and Python's repr of values
// so that toString() prints what PyTorch prints for the same module.
import { checkOptions } from '../../ops/registry.js';
import { DTYPES, isFloatingDType, type DType } from '../../dtype.js';

export { checkOptions };

/** Python's repr of a float: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, e] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(e);
  const sign = x < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    const point = exp + 1;
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  const tail = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0]}${tail}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** repr of a value as Python would print the attribute: tuples for arrays, True/False, None. */
export function py(v: unknown, float = false): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return float || !Number.isInteger(v) ? pyFloat(v) : String(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${py(v[0], float)},)` : `(${v.map((x) => py(x, float)).join(', ')})`;
  return String(v);
}

export function checkPositiveInt(layer: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${layer}: ${name} must be an integer, got ${describe(v)}`);
  if (v < min) throw new RangeError(`${layer}: ${name} must be ${min === 1 ? 'positive' : `at least ${min}`}, got ${v}`);
  return v;
}

export function checkBoolOption(layer: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${layer}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
}

export function checkNumberOption(layer: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${layer}: ${name} must be a number, got ${describe(v)}`);
  return v;
}

/** An int or a pair of ints (PyTorch's _pair), each at least `min`. */
export function pair(layer: string, name: string, v: unknown, min: number): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 2 || !arr.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new TypeError(`${layer}: ${name} must be an integer or [h, w] integers, got ${describe(v)}`);
  }
  if (arr.some((x: number) => x < min)) throw new RangeError(`${layer}: ${name} must be at least ${min}, got ${describe(v)}`);
  return [arr[0], arr[1]];
}

export function describe(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return String(v);
}

/** Checks the options object's keys; returns it (or {}) typed. */
export function opts<T extends object>(layer: string, options: T | undefined, keys: readonly (keyof T & string)[]): Partial<T> {
  checkOptions(options, keys, layer);
  return options ?? {};
}

/** PyTorch's factory_kwargs: where and in which floating dtype a layer creates its parameters. */
export interface LayerFactoryOptions { dtype?: DType; device?: string }
export const FACTORY_KEYS = ['dtype', 'device'] as const;

export function factory(layer: string, o: LayerFactoryOptions): { dtype: DType; device?: string } {
  const dtype = o.dtype ?? 'float32';
  if (typeof dtype !== 'string' || !DTYPES.includes(dtype) || !isFloatingDType(dtype)) {
    throw new TypeError(`${layer}: dtype must be a floating point dtype (float32, float64, float16, bfloat16), got ${describe(dtype)}`);
  }
  if (o.device !== undefined && typeof o.device !== 'string') throw new TypeError(`${layer}: device must be a string like 'cpu' or 'cuda:0', got ${describe(o.device)}`);
  return o.device === undefined ? { dtype } : { dtype, device: o.device };
}
