// Tensor files: safetensors (read and write) and PyTorch .pt/.pth (read). The byte formats
// live in *-format.ts and know nothing of tensors; this file moves bytes in and out of libtorch.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { DTYPE_CODE } from '../dtype.js';
import { checkString, invalidParameterError, is, readOptions, show } from '../../validate.js';
import { aten } from '../ops/registry.js';
import { decodeSafetensors, encodeSafetensorsChunks } from './safetensors-format.js';
import { decodePth } from './pth-format.js';
import { setOwn, type RawTensor } from './raw.js';

function readBytes(path: string, what: string): Uint8Array {
  checkString(what, 'path', path);
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new Error(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** @internal */
export function fromRaw(raw: RawTensor): Tensor {
  return new Tensor(native.fromBuffer(raw.data, DTYPE_CODE[raw.dtype], raw.shape));
}

const VIEW_DTYPE = aten('view', 'dtype');
const CONTIGUOUS = aten('contiguous');

/** @internal The exact bytes of a tensor (float16/bfloat16 as their bit patterns). */
export function toRaw(t: Tensor): RawTensor {
  const id = t.id;
  const dtype = t.dtype;
  let bytes: ArrayBuffer;
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const c = native.call(CONTIGUOUS, id, 0) as number;
    const bits = native.call(VIEW_DTYPE, c, DTYPE_CODE.int16) as number;
    try {
      bytes = native.toBuffer(bits);
    } finally {
      native.free(bits);
      native.free(c);
    }
  } else {
    bytes = native.toBuffer(id);
  }
  return { dtype, shape: [...t.shape], data: new Uint8Array(bytes) };
}

/** Reads a safetensors file into a plain object name -> Tensor (the caller owns the tensors). */
export function loadSafetensors(path: string): Record<string, Tensor> {
  const { tensors } = decodeSafetensors(readBytes(path, 'loadSafetensors'), path);
  const out: Record<string, Tensor> = {};
  for (const [name, raw] of Object.entries(tensors)) setOwn(out, name, fromRaw(raw));
  return out;
}

/** The `__metadata__` strings of a safetensors file. */
export function loadSafetensorsMetadata(path: string): Record<string, string> {
  return decodeSafetensors(readBytes(path, 'loadSafetensorsMetadata'), path).metadata;
}

/**
 * Writes tensors to a safetensors file atomically: a temporary file is written and fsynced,
 * then renamed over `path`, so a crash never leaves a half-written file where a good one was.
 */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, options?: { metadata?: Record<string, string> }): void {
  const where = 'saveSafetensors';
  checkString(where, 'path', path);
  if (!is.object(tensors)) throw invalidParameterError(where, 'tensors', 'an object name -> Tensor', tensors);
  const metadata = readOptions(where, options, ['metadata']).get('metadata') as Record<string, string> | undefined;
  const raw: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) throw invalidParameterError(where, `tensors[${show(name)}]`, 'a Tensor', t);
    setOwn(raw, name, toRaw(t));
  }
  writeAtomic(path, encodeSafetensorsChunks(raw, metadata), where);
}

/** @internal */
export function writeAtomic(path: string, chunks: Uint8Array[], op: string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw new Error(`${op}: cannot write ${path}: ${(e as Error).message}`);
  }
}

function materialise(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(materialise);
  const o = v as Record<string, unknown>;
  if (o.data instanceof Uint8Array && typeof o.dtype === 'string' && Array.isArray(o.shape) && Object.keys(o).length === 3) {
    return fromRaw(o as unknown as RawTensor);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) setOwn(out, k, materialise(x));
  return out;
}

/**
 * Reads a PyTorch `.pt`/`.pth` file (zip format and the legacy one) with a restricted
 * unpickler that never runs code. Returns the saved object with Tensors in it: for a state
 * dict, a plain object name -> Tensor.
 */
export function loadPth(path: string): any {
  return materialise(decodePth(readBytes(path, 'loadPth'), path));
}
