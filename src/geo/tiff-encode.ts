// The byte-level parts of writing a TIFF: the TIFF LZW encoder, the two predictors (horizontal
// differencing, TIFF 6.0 section 14, and the floating-point predictor of Adobe's Technical Note 3
// as libtiff implements it) and image file directories, classic (version 42) or BigTIFF (43).
// Everything is little-endian ('II'): the typed arrays of the hosts Node runs on already are, so
// tile buffers go to the file as they are.

import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('segkit writes GeoTIFFs only on little-endian hosts');

const CLEAR = 256;
const EOI = 257;
const FIRST = 258;
const BITS_MIN = 9;
const CODE_MAX = 4095;

// The string table as a direct map from (prefix code << 8 | byte) to the code: 2^20 slots,
// invalidated all at once by bumping the generation rather than clearing 6 MB at each reset.
const SLOTS = 1 << 20;
let tableCode: Uint16Array | null = null;
let tableGen: Uint32Array | null = null;
let generation = 0;

/**
 * TIFF LZW (compression 5): MSB-first codes of 9 to 12 bits with the "early change" of libtiff
 * and every TIFF reader since, a Clear code first and whenever the table fills, EOI last.
 * Follows libtiff's LZWEncode/LZWPostEncode code for code, so that GDAL, libtiff and geotiff.js
 * read it back.
 */
export function lzwEncode(input: Uint8Array): Uint8Array {
  tableCode ??= new Uint16Array(SLOTS);
  tableGen ??= new Uint32Array(SLOTS);
  const codes = tableCode;
  const gens = tableGen;
  // A code per input byte at most, 12 bits each, plus the Clear codes and EOI.
  const out = new Uint8Array(Math.ceil((input.length * 12) / 8) + Math.ceil(input.length / 3000) * 2 + 16);
  let pos = 0;
  let acc = 0;
  let accBits = 0;
  let nbits = BITS_MIN;
  let maxcode = (1 << BITS_MIN) - 1;
  let free = FIRST;
  const put = (code: number) => {
    acc = (acc << nbits) | code;
    accBits += nbits;
    while (accBits >= 8) {
      accBits -= 8;
      out[pos++] = (acc >>> accBits) & 0xff;
    }
    acc &= (1 << accBits) - 1;
  };
  const reset = () => {
    generation = (generation + 1) >>> 0;
    if (generation === 0) {
      gens.fill(0);
      generation = 1;
    }
  };
  reset();
  put(CLEAR);
  if (input.length === 0) {
    put(EOI);
    if (accBits > 0) out[pos++] = (acc << (8 - accBits)) & 0xff;
    return out.subarray(0, pos);
  }
  let ent = input[0]!;
  for (let i = 1; i < input.length; i++) {
    const c = input[i]!;
    const key = (ent << 8) | c;
    if (gens[key] === generation) {
      ent = codes[key]!;
      continue;
    }
    put(ent);
    ent = c;
    codes[key] = free++;
    gens[key] = generation;
    if (free === CODE_MAX - 1) {
      put(CLEAR);
      reset();
      free = FIRST;
      nbits = BITS_MIN;
      maxcode = (1 << BITS_MIN) - 1;
    } else if (free > maxcode) {
      nbits++;
      maxcode = (1 << nbits) - 1;
    }
  }
  put(ent);
  // The reader adds a table entry on reading this last code and widens its codes before EOI
  // when that entry fills the width; libtiff's encoder makes the same step.
  free++;
  if (free === CODE_MAX - 1) {
    put(CLEAR);
    nbits = BITS_MIN;
  } else if (free > maxcode) {
    nbits++;
  }
  put(EOI);
  if (accBits > 0) out[pos++] = (acc << (8 - accBits)) & 0xff;
  return out.subarray(0, pos);
}

/** An integer typed array whose elements wrap on overflow, as the predictor's arithmetic needs. */
type IntArray = Uint8Array | Uint16Array | Int8Array | Int16Array | Uint32Array | Int32Array;

/**
 * Predictor 2 in place: each sample minus the same band's sample one pixel to the left, row by
 * row of `rowSamples` samples (tile width x bands), right to left so each difference uses the
 * original neighbour. The typed array's own wrap-around is the modular arithmetic TIFF asks for.
 */
export function horizontalDifference(data: IntArray, rowSamples: number, bands: number): void {
  for (let start = 0; start < data.length; start += rowSamples) {
    for (let i = start + rowSamples - 1; i >= start + bands; i--) data[i] = data[i]! - data[i - bands]!;
  }
}

/**
 * Predictor 3 (floating point) on float32 samples, in place on their bytes: each row's bytes are
 * regrouped by significance (all most significant bytes first, as libtiff's fpDiff orders them on
 * a little-endian host), then differenced byte by byte with a stride of one pixel.
 */
export function floatingPointDifference(bytes: Uint8Array, rowSamples: number, bands: number): void {
  const bps = 4;
  const rowBytes = rowSamples * bps;
  const tmp = new Uint8Array(rowBytes);
  for (let start = 0; start < bytes.length; start += rowBytes) {
    const row = bytes.subarray(start, start + rowBytes);
    tmp.set(row);
    for (let i = 0; i < rowSamples; i++) {
      for (let b = 0; b < bps; b++) row[(bps - b - 1) * rowSamples + i] = tmp[bps * i + b]!;
    }
    for (let i = rowBytes - 1; i >= bands; i--) row[i] = (row[i]! - row[i - bands]!) & 0xff;
  }
}

/** TIFF field types used here. */
export const ASCII = 2;
export const SHORT = 3;
export const LONG = 4;
export const DOUBLE = 12;
export const LONG8 = 16;

const TYPE_SIZE: Record<number, number> = { [ASCII]: 1, [SHORT]: 2, [LONG]: 4, [DOUBLE]: 8, [LONG8]: 8 };

/** One IFD entry: its tag, field type and values (ASCII as a string, without the NUL). */
export interface TiffField {
  tag: number;
  type: number;
  values: ArrayLike<number> | string;
}

function fieldBytes(f: TiffField): Uint8Array {
  if (typeof f.values === 'string') return new TextEncoder().encode(`${f.values}\0`);
  const n = f.values.length;
  const buf = new Uint8Array(n * TYPE_SIZE[f.type]!);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    const x = f.values[i]!;
    if (f.type === SHORT) v.setUint16(i * 2, x, true);
    else if (f.type === LONG) v.setUint32(i * 4, x, true);
    else if (f.type === DOUBLE) v.setFloat64(i * 8, x, true);
    else v.setBigUint64(i * 8, BigInt(x), true);
  }
  return buf;
}

/**
 * One image directory to be written at file offset `at` (word aligned), with the values that do
 * not fit in an entry placed right after it. Fields are sorted by tag, as TIFF requires.
 */
export function encodeIfd(fields: TiffField[], at: number, bigTiff: boolean): Uint8Array {
  const sorted = [...fields].sort((a, b) => a.tag - b.tag);
  const entrySize = bigTiff ? 20 : 12;
  const inline = bigTiff ? 8 : 4;
  const head = bigTiff ? 8 : 2;
  const dirSize = head + sorted.length * entrySize + (bigTiff ? 8 : 4);
  const values = sorted.map(fieldBytes);
  let extra = 0;
  for (const b of values) if (b.length > inline) extra += b.length + (b.length & 1);
  const buf = new Uint8Array(dirSize + extra);
  const v = new DataView(buf.buffer);
  if (bigTiff) v.setBigUint64(0, BigInt(sorted.length), true);
  else v.setUint16(0, sorted.length, true);
  let next = dirSize;
  sorted.forEach((f, i) => {
    const e = head + i * entrySize;
    const bytes = values[i]!;
    const count = typeof f.values === 'string' ? bytes.length : f.values.length;
    v.setUint16(e, f.tag, true);
    v.setUint16(e + 2, f.type, true);
    if (bigTiff) v.setBigUint64(e + 4, BigInt(count), true);
    else v.setUint32(e + 4, count, true);
    const valueAt = e + (bigTiff ? 12 : 8);
    if (bytes.length <= inline) {
      buf.set(bytes, valueAt);
      return;
    }
    if (bigTiff) v.setBigUint64(valueAt, BigInt(at + next), true);
    else v.setUint32(valueAt, at + next, true);
    buf.set(bytes, next);
    next += bytes.length + (bytes.length & 1);
  });
  return buf;
}

/** The file header with the first IFD's offset (0 until the directory is written at close). */
export function encodeHeader(bigTiff: boolean, ifdOffset: number): Uint8Array {
  const buf = new Uint8Array(bigTiff ? 16 : 8);
  const v = new DataView(buf.buffer);
  buf[0] = 0x49;
  buf[1] = 0x49;
  v.setUint16(2, bigTiff ? 43 : 42, true);
  if (bigTiff) {
    v.setUint16(4, 8, true);
    v.setUint16(6, 0, true);
    v.setBigUint64(8, BigInt(ifdOffset), true);
  } else {
    v.setUint32(4, ifdOffset, true);
  }
  return buf;
}
