/**
 * Shared, Tensor-independent representation of a tensor read from or written to a file.
 * The format layer (safetensors, .pth) produces and consumes only these, so it can be
 * tested without the native addon.
 */

import { ITEM_SIZE, type DType } from '../dtype.js';

export type { DType };

export interface RawTensor {
  dtype: DType;
  /** Sizes per dimension; `[]` for a 0-d (scalar) tensor. */
  shape: number[];
  /** Contiguous, row-major, little-endian; exactly `numel(shape) * itemSize(dtype)` bytes. */
  data: Uint8Array;
}

export const DTYPES: readonly DType[] = Object.keys(ITEM_SIZE) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(ITEM_SIZE, value);
}

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  const size = ITEM_SIZE[dtype];
  if (size === undefined) throw new Error(`unknown dtype "${String(dtype)}" (expected one of ${DTYPES.join(', ')})`);
  return size;
}

/**
 * Element count of a shape. Throws if a dimension is not a non-negative safe integer or the
 * product leaves the safe-integer range, so callers can trust the result for byte arithmetic.
 */
export function numelOf(shape: readonly number[], what = 'shape'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${what} [${shape.join(', ')}] has a dimension ${String(d)}; expected non-negative integers`);
    }
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Error(`${what} [${shape.join(', ')}] has too many elements`);
  }
  return n;
}

/**
 * Defines an own enumerable property. Plain assignment of a file-controlled key such as
 * "__proto__" would replace the object's prototype instead of adding an entry.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
