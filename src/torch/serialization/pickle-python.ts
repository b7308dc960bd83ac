// The Python side of the restricted unpickler (pickle.ts): the globals a PyTorch checkpoint's
// pickle may name and nothing else, the storage types its persistent ids carry, and how Python
// values are named and decoded.
import type { DType } from './raw.js';

/** A global the pickle named; only allowlisted ones are ever created. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What the unpickler does when an allowed global is called. */
export type Handler = 'OrderedDict' | 'rebuild_tensor' | 'rebuild_parameter' | 'rebuild_from_type' | 'marker';

const STORAGE_TYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  // torch >= 2 names untyped (byte) storages this way when one is saved directly.
  UntypedStorage: 'uint8',
};

/**
 * Every global a state dict or training checkpoint legitimately needs, and nothing else.
 * Storage types are inert markers in persistent ids; torch.cuda.* ones appear in checkpoints
 * saved from GPU by PyTorch < 1.0. _rebuild_tensor (v1) is what PyTorch < 0.4 wrote.
 */
export const ALLOWED = new Map<string, Handler>([
  ['collections.OrderedDict', 'OrderedDict'],
  ['torch._utils._rebuild_tensor', 'rebuild_tensor'],
  ['torch._utils._rebuild_tensor_v2', 'rebuild_tensor'],
  ['torch._utils._rebuild_parameter', 'rebuild_parameter'],
  ['torch._utils._rebuild_parameter_with_state', 'rebuild_parameter'],
  ['torch._tensor._rebuild_from_type_v2', 'rebuild_from_type'],
  ['torch.Tensor', 'marker'],
  ['torch.nn.parameter.Parameter', 'marker'],
  ...Object.keys(STORAGE_TYPES).flatMap((s): [string, Handler][] => [
    [`torch.${s}`, 'marker'],
    [`torch.cuda.${s}`, 'marker'],
  ]),
]);

/** The element type of an allowlisted storage-type global, or undefined for anything else. */
export function storageDType(value: unknown): DType | undefined {
  if (!(value instanceof PyGlobal) || !ALLOWED.has(value.qualifiedName)) return undefined;
  const module = value.module;
  if (module !== 'torch' && module !== 'torch.cuda') return undefined;
  return Object.hasOwn(STORAGE_TYPES, value.name) ? STORAGE_TYPES[value.name] : undefined;
}

/** A Python value's type as an error message names it. */
export function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list/tuple';
  if (v instanceof PyGlobal) return `global ${v.qualifiedName}`;
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

/** Little-endian two's complement; a number when exactly representable, otherwise a bigint. */
export function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
