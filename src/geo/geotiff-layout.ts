// What the GeoTIFF writer decides once per file, from its options checked here (the tile grid,
// sample type, compression, BigTIFF or not), and what follows from it: how a complete tile becomes bytes, the image directory's baseline tags,
// and, when a raster is closed unfinished, which part of it was never written.

import { deflateSync } from 'node:zlib';
import { checkTransform, type GeoTransform } from './transform.js';
import { invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import { epsgCode } from './geokeys.js';
import { ASCII, floatingPointDifference, horizontalDifference, LONG, LONG8, lzwEncode, SHORT, type TiffField } from './tiff-encode.js';

/** The sample types the writer writes. */
export type GeoTiffDType = 'uint8' | 'uint16' | 'float32';
export type GeoTiffCompression = 'deflate' | 'lzw' | 'none';
/** A window's pixels: the typed array of the writer's dtype. */
export type GeoTiffArray = Uint8Array | Uint16Array | Float32Array;

/** Options of `createGeoTiff` and `writeGeoTiff`. */
export interface GeoTiffWriterOptions {
  width: number;
  height: number;
  /** Samples per pixel (default 1). Three uint8 bands are tagged RGB, as GDAL does. */
  bands?: number;
  /** Default 'uint8' (`writeGeoTiff`: the data's type). */
  dtype?: GeoTiffDType;
  /** Tile width and height, a multiple of 16 (default 256). */
  tileSize?: number;
  /** Default 'deflate'. */
  compression?: GeoTiffCompression;
  /** 1 none, 2 horizontal differencing (integers), 3 floating point (float32); default 2 or 3 when compressed, 1 otherwise. */
  predictor?: 1 | 2 | 3;
  /** zlib level for deflate, 1-9 (default 6). */
  level?: number;
  /** An EPSG code: 32616, 'EPSG:32616' or another name normalizeCrs maps to one. */
  crs?: number | string;
  /** GDAL-order geotransform; north-up ones are written as tie point + pixel scale. */
  transform?: GeoTransform;
  /** The GDAL_NODATA value; also fills the parts of edge tiles outside the raster. */
  noData?: number;
  /** BigTIFF (8-byte offsets): 'auto' (default) when the file could pass 4 GB. */
  bigTiff?: boolean | 'auto';
  /** Replace an existing file at `path` (default false: an error). */
  overwrite?: boolean;
}

/** The layout of a file being written. */
export interface TilePlan {
  width: number;
  height: number;
  bands: number;
  dtype: GeoTiffDType;
  tileSize: number;
  compression: GeoTiffCompression;
  predictor: 1 | 2 | 3;
  level: number;
  /** EPSG code, or null for no GeoKeys. */
  code: number | null;
  transform: GeoTransform | null;
  noData: number | null;
  bigTiff: boolean;
  /** Tiles across and down. */
  across: number;
  down: number;
}

const KEYS = [
  'width',
  'height',
  'bands',
  'dtype',
  'tileSize',
  'compression',
  'predictor',
  'level',
  'crs',
  'transform',
  'noData',
  'bigTiff',
  'overwrite',
];
const DTYPES: readonly GeoTiffDType[] = ['uint8', 'uint16', 'float32'];
const WHERE = 'GeoTiffWriter';
export const ARRAYS = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array } as const;
const RANGES = { uint8: 255, uint16: 65535 } as const;
/** Worst-case growth of a tile by each compression: stored deflate blocks, 12-bit LZW codes per byte. */
const GROWTH: Record<GeoTiffCompression, number> = { none: 1, deflate: 1.001, lzw: 1.5 };

/** Reads and checks the writer's options; decides BigTIFF from the worst-case file size. */
export function readPlan(options: GeoTiffWriterOptions): TilePlan & { overwrite: boolean } {
  if (!is.object(options)) throw invalidParameterError(WHERE, 'options', 'an object with width and height', options);
  const o = readOptions(WHERE, options, KEYS);
  const width = o.int('width', undefined, { min: 1, max: 0xffffffff });
  const height = o.int('height', undefined, { min: 1, max: 0xffffffff });
  const bands = o.int('bands', 1, { min: 1, max: 65535 });
  const dtype = o.choice('dtype', DTYPES, 'uint8');
  const tileSize = o.int('tileSize', 256, { min: 16, max: 65536 });
  if (tileSize % 16 !== 0) throw outOfRangeError(WHERE, 'tileSize', 'a multiple of 16', tileSize);
  const compression = o.choice<GeoTiffCompression>('compression', ['deflate', 'lzw', 'none'], 'deflate');
  const natural = compression === 'none' ? 1 : dtype === 'float32' ? 3 : 2;
  const predictor = o.choice('predictor', [1, 2, 3] as const, natural);
  if (predictor !== 1 && compression === 'none')
    throw outOfRangeError(WHERE, 'predictor', "1 without compression (a predictor only helps 'deflate' or 'lzw')", predictor);
  if (predictor === 2 && dtype === 'float32') throw outOfRangeError(WHERE, 'predictor', '1 or 3 for float32 samples', predictor);
  if (predictor === 3 && dtype !== 'float32') throw outOfRangeError(WHERE, 'predictor', `1 or 2 for ${dtype} samples`, predictor);
  const level = o.int('level', 6, { min: 1, max: 9 });
  const code = o.has('crs') ? epsgCode(WHERE, o.get('crs')) : null;
  const transform = o.has('transform') ? checkTransform(WHERE, 'transform', o.get('transform')) : null;
  let noData: number | null = null;
  if (o.has('noData')) {
    const v = o.get('noData');
    if (typeof v !== 'number') throw invalidParameterError(WHERE, 'noData', 'a number', v);
    if (dtype !== 'float32' && !(Number.isInteger(v) && v >= 0 && v <= RANGES[dtype]))
      throw outOfRangeError(WHERE, 'noData', `an integer from 0 to ${RANGES[dtype]} for ${dtype} samples`, v);
    if (dtype === 'float32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v)))
      throw outOfRangeError(WHERE, 'noData', 'a number float32 can hold', v);
    noData = v;
  }
  const big = o.custom<boolean | 'auto'>('bigTiff', 'auto', (v) => v === true || v === false || v === 'auto', "true, false or 'auto'");
  const overwrite = o.bool('overwrite', false);
  const across = Math.ceil(width / tileSize);
  const down = Math.ceil(height / tileSize);
  const tileBytes = tileSize * tileSize * bands * ARRAYS[dtype].BYTES_PER_ELEMENT;
  const estimate = 16 + across * down * (tileBytes * GROWTH[compression] + 64 + 16) + 65536;
  const bigTiff = big === 'auto' ? estimate > 0xffffffff : big;
  return {
    width,
    height,
    bands,
    dtype,
    tileSize,
    compression,
    predictor,
    level,
    code,
    transform,
    noData,
    bigTiff,
    across,
    down,
    overwrite,
  };
}

const COMPRESSION = { none: 1, lzw: 5, deflate: 8 } as const;

/** A window as messages show it. */
export function describeWindow(x: number, y: number, width: number, height: number): string {
  return `{x: ${x}, y: ${y}, width: ${width}, height: ${height}}`;
}

/** A complete tile's bytes as stored: predictor, then compression. Works in place on `data`, which the caller drops. */
export function encodeTile(data: Uint8Array | Uint16Array | Float32Array, plan: TilePlan): Uint8Array {
  const rowSamples = plan.tileSize * plan.bands;
  if (plan.predictor === 2) horizontalDifference(data as Uint8Array | Uint16Array, rowSamples, plan.bands);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (plan.predictor === 3) floatingPointDifference(bytes, rowSamples, plan.bands);
  if (plan.compression === 'deflate') return deflateSync(bytes, { level: plan.level });
  if (plan.compression === 'lzw') return lzwEncode(bytes);
  return bytes;
}

/** GDAL's spelling of a nodata value: 'nan', 'inf', '-inf' or the shortest round-tripping decimal. */
function noDataText(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(v);
}

/** The baseline and tiling tags, GDAL_NODATA included; GeoTIFF tags come from geokeys.ts. */
export function imageFields(plan: TilePlan, offsets: Float64Array, counts: Float64Array): TiffField[] {
  const { width, height, bands, dtype, tileSize, bigTiff } = plan;
  const bits = dtype === 'uint8' ? 8 : dtype === 'uint16' ? 16 : 32;
  // Three 8-bit bands are RGB, as GDAL's PHOTOMETRIC default has them; any band past the colour
  // ones is an unspecified extra sample, which TIFF readers expect to be declared.
  const rgb = bands === 3 && dtype === 'uint8';
  const extra = bands - (rgb ? 3 : 1);
  const same = (v: number) => new Array<number>(bands).fill(v);
  const fields: TiffField[] = [
    { tag: 256, type: LONG, values: [width] },
    { tag: 257, type: LONG, values: [height] },
    { tag: 258, type: SHORT, values: same(bits) },
    { tag: 259, type: SHORT, values: [COMPRESSION[plan.compression]] },
    { tag: 262, type: SHORT, values: [rgb ? 2 : 1] },
    { tag: 277, type: SHORT, values: [bands] },
    { tag: 284, type: SHORT, values: [1] },
    { tag: 322, type: LONG, values: [tileSize] },
    { tag: 323, type: LONG, values: [tileSize] },
    { tag: 324, type: bigTiff ? LONG8 : LONG, values: offsets },
    { tag: 325, type: bigTiff ? LONG8 : LONG, values: counts },
    { tag: 339, type: SHORT, values: same(dtype === 'float32' ? 3 : 1) },
  ];
  if (plan.predictor !== 1) fields.push({ tag: 317, type: SHORT, values: [plan.predictor] });
  if (extra > 0) fields.push({ tag: 338, type: SHORT, values: new Array<number>(extra).fill(0) });
  if (plan.noData !== null) fields.push({ tag: 42113, type: ASCII, values: noDataText(plan.noData) });
  return fields;
}

/** What was never written, for the error at close: pixel and tile counts and the first missing tile's window; null when complete. */
export function missingReport(plan: TilePlan, done: Uint8Array, open: Map<number, { remaining: number }>): string | null {
  const { width, height, tileSize: T, across } = plan;
  let pixels = 0;
  let tiles = 0;
  let first = -1;
  for (let idx = 0; idx < done.length; idx++) {
    if (done[idx] === 1) continue;
    const tx = idx % across;
    const ty = Math.floor(idx / across);
    tiles++;
    if (first < 0) first = idx;
    pixels += open.get(idx)?.remaining ?? (Math.min(width, (tx + 1) * T) - tx * T) * (Math.min(height, (ty + 1) * T) - ty * T);
  }
  if (tiles === 0) return null;
  const tx = first % across;
  const ty = Math.floor(first / across);
  const w = Math.min(width, (tx + 1) * T) - tx * T;
  const h = Math.min(height, (ty + 1) * T) - ty * T;
  return (
    `${pixels} of its ${width * height} pixels were never written (${tiles} of ${done.length} tiles incomplete, ` +
    `the first tile (${tx}, ${ty}): window ${describeWindow(tx * T, ty * T, w, h)})`
  );
}
