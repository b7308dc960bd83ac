// Shared by the layer files: Python's repr of values, so that toString() prints what PyTorch
// prints for the same module, and the layers' own option rules on top of validate.ts.
import { checkIntList, type OptionReader } from '../../../validate.js';
import type { DType } from '../../dtype.js';

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

/** An int or a pair of ints (PyTorch's _pair), each at least `min`. */
export function pair(layer: string, name: string, v: unknown, min: number): [number, number] {
  return checkIntList(layer, name, v, { length: 2, scalar: true, min }) as [number, number];
}

/** PyTorch's factory_kwargs: where and in which floating dtype a layer creates its parameters. */
export interface LayerFactoryOptions {
  dtype?: DType;
  device?: string;
}
export const FACTORY_KEYS = ['dtype', 'device'] as const;
const FLOATING_DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

/** Reads `dtype` (a floating one, float32 by default) and `device` from a layer's options. */
export function factory(o: OptionReader<LayerFactoryOptions>): { dtype: DType; device?: string } {
  const dtype = o.choice('dtype', FLOATING_DTYPES, 'float32');
  if (!o.has('device')) return { dtype };
  return { dtype, device: o.string('device', undefined, "a device name like 'cpu' or 'cuda:0'") };
}
