/**
 * safetensors: u64 little-endian header length N, N bytes of JSON header, then the data
 * buffer. Validation follows the reference Rust implementation: offsets must tile the data
 * buffer exactly (no holes, no overlaps, no trailing bytes) and each tensor's byte length
 * must equal numel * itemsize.
 */
import { is, show } from '../../validate.js';
import { type DType, type RawTensor, isDType, itemSize, numelOf, setOwn } from './raw.js';

/** Larger headers are refused before anything is allocated (the Rust library uses 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

const TO_FILE: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_FILE = new Map<string, DType>(Object.entries(TO_FILE).map(([k, v]) => [v, k as DType]));

export interface SafetensorsContents {
  /** In header order. Each `data` is a zero-copy plain Uint8Array view into the input bytes. */
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

interface Slot {
  name: string;
  begin: number;
  end: number;
}

function readIntArray(file: string, name: string, field: string, value: unknown, length?: number): number[] {
  const ok =
    Array.isArray(value) &&
    (length === undefined || value.length === length) &&
    value.every((v) => Number.isSafeInteger(v) && (v as number) >= 0);
  if (!ok) {
    const want = length === undefined ? 'an array of non-negative integers' : `an array of ${length} non-negative integers`;
    throw new Error(`${file}: tensor "${name}" has ${field} ${show(value)}; expected ${want}`);
  }
  return value as number[];
}

/** Decodes a complete safetensors file held in memory. Throws an Error naming `fileName` on any defect. */
export function decodeSafetensors(bytes: Uint8Array, fileName: string): SafetensorsContents {
  if (bytes.length < 8) {
    throw new Error(`${fileName}: file is ${bytes.length} bytes; a safetensors file needs at least the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(
      `${fileName}: header length is ${headerLen64} bytes; at most ${MAX_HEADER_BYTES} are allowed (corrupt file or not safetensors)`,
    );
  }
  const headerLen = Number(headerLen64);
  if (8 + headerLen > bytes.length) {
    throw new Error(`${fileName}: header length is ${headerLen} bytes but only ${bytes.length - 8} bytes follow (truncated file?)`);
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`${fileName}: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!is.object(header)) throw new Error(`${fileName}: header must be a JSON object, got ${show(header)}`);

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors: Record<string, RawTensor> = {};
  const metadata: Record<string, string> = {};
  const slots: Slot[] = [];

  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!is.object(info)) throw new Error(`${fileName}: "__metadata__" must be an object of strings, got ${show(info)}`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new Error(`${fileName}: metadata "${k}" must be a string, got ${show(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    if (!is.object(info)) throw new Error(`${fileName}: tensor "${name}" must be described by an object, got ${show(info)}`);
    const fileDType = info.dtype;
    const dtype = typeof fileDType === 'string' ? FROM_FILE.get(fileDType) : undefined;
    if (dtype === undefined) {
      throw new Error(
        `${fileName}: tensor "${name}" has unsupported dtype ${show(fileDType)}; expected one of ${[...FROM_FILE.keys()].join(', ')}`,
      );
    }
    const shape = readIntArray(fileName, name, 'shape', info.shape);
    const [begin, end] = readIntArray(fileName, name, 'data_offsets', info.data_offsets, 2);
    let need: number;
    try {
      need = numelOf(shape) * itemSize(dtype);
    } catch (e) {
      throw new Error(`${fileName}: tensor "${name}": ${(e as Error).message}`);
    }
    if (begin > end || end > dataLen) {
      throw new Error(
        `${fileName}: tensor "${name}" has data_offsets [${begin}, ${end}] but the data buffer is [0, ${dataLen}] (truncated file?)`,
      );
    }
    if (end - begin !== need) {
      throw new Error(
        `${fileName}: tensor "${name}" has data_offsets [${begin}, ${end}] (${end - begin} bytes) but ${fileDType} [${shape.join(', ')}] needs ${need} bytes`,
      );
    }
    slots.push({ name, begin, end });
    setOwn(tensors, name, {
      dtype,
      shape: [...shape],
      data: new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin),
    });
  }

  // Tensors must tile the buffer: overlaps would alias data, holes/trailing bytes hide content.
  const sorted = [...slots].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of sorted) {
    if (s.begin !== cursor) {
      const problem = s.begin < cursor ? 'overlaps the previous tensor' : 'leaves a gap after the previous tensor';
      throw new Error(`${fileName}: tensor "${s.name}" starts at byte ${s.begin} of the data buffer, expected ${cursor}: it ${problem}`);
    }
    cursor = s.end;
  }
  if (cursor !== dataLen) {
    throw new Error(`${fileName}: tensors cover ${cursor} bytes of the data buffer but it has ${dataLen} bytes (trailing data)`);
  }
  return { tensors, metadata };
}

function checkTensor(name: string, t: RawTensor): number {
  if (!isDType(t.dtype)) throw new Error(`safetensors: tensor "${name}" has unknown dtype ${show(t.dtype)}`);
  let need: number;
  try {
    need = numelOf(t.shape) * itemSize(t.dtype);
  } catch (e) {
    throw new Error(`safetensors: tensor "${name}": ${(e as Error).message}`);
  }
  if (!(t.data instanceof Uint8Array) || t.data.length !== need) {
    const got = t.data instanceof Uint8Array ? `${t.data.length} bytes` : show(t.data);
    throw new Error(`safetensors: tensor "${name}" is ${t.dtype} [${t.shape.join(', ')}] and needs ${need} bytes of data, got ${got}`);
  }
  return need;
}

/**
 * Encodes to a list of chunks: `[headerChunk, ...tensor data views]`. Writing the chunks in
 * order produces the file without concatenating (and so without copying) the tensor data.
 * Tensors are laid out in insertion order; the header is space-padded to a multiple of 8.
 */
export function encodeSafetensorsChunks(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata "${k}" must be a string, got ${show(v)}`);
      setOwn(meta, k, v);
    }
    setOwn(header, '__metadata__', meta);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('safetensors: a tensor cannot be named "__metadata__" (reserved for metadata)');
    const n = checkTensor(name, t);
    setOwn(header, name, { dtype: TO_FILE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + n] });
    chunks.push(t.data);
    offset += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return [head, ...chunks];
}

/** Encodes to one contiguous buffer (copies all tensor data; prefer the chunk form for big files). */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const chunks = encodeSafetensorsChunks(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
