// dtype names as PyTorch prints them (without the `torch.` prefix), and their c10 codes.
import { describeChoices, invalidParameterError } from '../validate.js';

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
export type MemoryFormat = 'contiguous' | 'preserve' | 'channelsLast';
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** c10::ScalarType values. */
export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};
const CODE_DTYPE = new Map<number, DType>(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]));

/** c10::MemoryFormat values. */
export const MEMORY_FORMAT_CODE: Readonly<Record<MemoryFormat, number>> = { contiguous: 0, preserve: 1, channelsLast: 2 };

export const ITEM_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export const DTYPES = Object.keys(DTYPE_CODE) as DType[];

export function isFloatingDType(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

export function dtypeCode(d: unknown, where: string): number {
  const code = typeof d === 'string' ? DTYPE_CODE[d as DType] : undefined;
  if (typeof code === 'number') return code;
  throw invalidParameterError(where, 'dtype', describeChoices(DTYPES), d);
}

export function dtypeFromCode(code: number): DType {
  const d = CODE_DTYPE.get(code);
  if (!d) throw new TypeError(`unsupported tensor dtype (c10 ScalarType ${code})`);
  return d;
}

export function memoryFormatCode(f: unknown, where: string): number {
  const code = typeof f === 'string' ? MEMORY_FORMAT_CODE[f as MemoryFormat] : undefined;
  if (typeof code === 'number') return code;
  throw invalidParameterError(where, 'memoryFormat', describeChoices(Object.keys(MEMORY_FORMAT_CODE)), f);
}

/** The typed array toArray() returns for each dtype (float16/bfloat16 widen to float32). */
export function viewAs(dtype: DType, buffer: ArrayBuffer): TypedArray {
  switch (dtype) {
    case 'float32':
    case 'float16':
    case 'bfloat16':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
  }
}

/** The dtype a typed array holds, when the user gives no dtype. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  return undefined;
}
