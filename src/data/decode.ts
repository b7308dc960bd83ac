// Image and mask files to planar pixel arrays: the first step of every training sample and every
// prediction. The header is read by hand first (image-header.ts), so a decompression bomb fails
// before anything is allocated; then sharp (libvips) decodes what it decodes right and fast
// (JPEG, PNG, WebP, GIF, 8-bit RGB/grey TIFF) and geotiff.js the rasters sharp gets wrong
// (multiband, 16-bit, float TIFF). Masks keep their stored sample values: palette indices, 1-bit
// 0/1, 16-bit class ids, which sharp would expand to colours or rescale.
import { readFile } from 'node:fs/promises';
import { decode as decodePng, type DecodedPng } from 'fast-png';
import { loadGeoTiff } from '../geo/geotiff-module.js';
import sharp from 'sharp';
import { invalidParameterError, outOfRangeError, readOptions } from '../validate.js';
import { fileLabel, type ImageFormat, type ImageHeader, readImageHeader } from './image-header.js';

export { type ImageFormat, type ImageHeader, readImageHeader, sniffImageFormat } from './image-header.js';

/** sharp's default limitInputPixels (0x3FFF squared): images with more pixels are refused. */
export const DEFAULT_MAX_PIXELS = 268402689;

/** A decoded image, planar. */
export interface DecodedImage {
  /** Samples, planar [channels, height, width]: Uint8Array (8-bit), Uint16Array (16-bit) or Float32Array (other TIFF sample types). */
  data: Uint8Array | Uint16Array | Float32Array;
  channels: number;
  height: number;
  width: number;
  /** 8, 16, or 32 for float32 samples (any TIFF sample type that is not 8- or 16-bit unsigned). */
  bitDepth: 8 | 16 | 32;
  /** [height * width], 1 where there is data: alpha > 0, and for GeoTIFFs not every band equal to the GDAL nodata value. Null when the file has neither. */
  valid: Uint8Array | null;
  format: ImageFormat;
}

export interface DecodeImageOptions {
  /** The file's name for messages when `input` is bytes. */
  path?: string;
  /** Refuse images whose header states more pixels (default DEFAULT_MAX_PIXELS; Infinity: no limit). */
  maxPixels?: number;
  /** Alpha becomes `valid` (0 where alpha is 0) and is dropped from the channels (default true). */
  alphaAsNodata?: boolean;
}

/** A decoded mask: one sample per pixel, row-major [height, width]. */
export interface DecodedMask {
  data: Uint8Array | Uint16Array;
  height: number;
  width: number;
  /** The values are palette indices (a palette PNG), not grey levels. */
  palette: boolean;
}

type Where = 'decodeImage' | 'decodeMask';

function fileError(where: Where, file: string, message: string, cause?: unknown): Error {
  return new Error(`${where}: ${file}: ${message}`, cause === undefined ? undefined : { cause });
}

function readMaxPixels(where: Where, v: unknown): number {
  if (v === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof v !== 'number') throw invalidParameterError(where, 'maxPixels', 'a positive integer or Infinity', v);
  if (v !== Infinity && !(Number.isInteger(v) && v > 0)) throw outOfRangeError(where, 'maxPixels', 'a positive integer or Infinity', v);
  return v;
}

interface Input {
  bytes: Uint8Array;
  file: string;
  header: ImageHeader;
}

/** Reads the bytes, the header, and checks the pixel count before any decoding. */
async function open(where: Where, input: unknown, path: string | undefined, maxPixels: number): Promise<Input> {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    path ??= input;
    try {
      bytes = await readFile(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw fileError(where, input, code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`, e);
    }
  } else if (input instanceof Uint8Array) bytes = input;
  else throw invalidParameterError(where, 'input', 'a file path or a Uint8Array of file bytes', input);
  const file = fileLabel(path);
  if (bytes.length === 0) throw fileError(where, file, 'empty file (0 bytes): expected an image');
  let header: ImageHeader;
  try {
    header = readImageHeader(bytes, path);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
  const pixels = header.width * header.height;
  if (pixels > maxPixels)
    throw new RangeError(
      `${where}: ${file}: the ${header.format.toUpperCase()} header states ${header.width}x${header.height} = ${pixels} pixels, ` +
        `more than maxPixels ${maxPixels} (a guard against decompression bombs: pass a larger maxPixels if the image is real)`,
    );
  return { bytes, file, header };
}

const IMAGE_KEYS = ['path', 'maxPixels', 'alphaAsNodata'] as const;

/**
 * Decodes an image file (path or bytes) to planar samples. The format comes from the bytes, not
 * the name. Grey stays 1 channel, RGB 3; an alpha channel becomes `valid` and is dropped (unless
 * alphaAsNodata is false). 16-bit PNGs stay 16-bit. TIFFs with more than 4 bands, more than 8
 * bits or a non-RGB/grey layout are read with geotiff.js, all bands, their GDAL nodata value
 * marking `valid`.
 */
export async function decodeImage(input: string | Uint8Array, options?: DecodeImageOptions): Promise<DecodedImage> {
  const where = 'decodeImage';
  const o = readOptions(where, options, IMAGE_KEYS);
  const path = o.has('path') ? o.string('path') : undefined;
  const maxPixels = readMaxPixels(where, o.get('maxPixels'));
  const alphaAsNodata = o.bool('alphaAsNodata', true);
  const { bytes, file, header } = await open(where, input, path, maxPixels);
  if (header.format === 'tiff' && !sharpReadsTiff(header)) return decodeTiff(where, bytes, file, header, alphaAsNodata);
  return decodeWithSharp(where, bytes, file, header, maxPixels, alphaAsNodata);
}

/** 8-bit unsigned grey or RGB TIFFs (with an alpha at most); sharp expands or drops anything else. */
function sharpReadsTiff(h: ImageHeader): boolean {
  if (h.bitDepth !== 8 || h.sampleFormat !== 'uint') return false;
  const alpha = h.extraSamples?.length === 1 && (h.extraSamples[0] === 1 || h.extraSamples[0] === 2);
  if (h.colorType === 'minisblack') return h.channels === 1 || (h.channels === 2 && alpha);
  if (h.colorType === 'rgb' || h.colorType === 'ycbcr') return h.channels === 3 || (h.channels === 4 && alpha);
  return h.colorType === 'palette' && h.channels === 1;
}

function isGrey(h: ImageHeader): boolean {
  if (h.format === 'png') return h.colorType === 'grey' || h.colorType === 'grey-alpha';
  if (h.format === 'jpeg') return h.channels === 1;
  return h.format === 'tiff' && h.colorType === 'minisblack';
}

function sharpOptions(maxPixels: number): sharp.SharpOptions {
  // failOn 'error' refuses truncated files (sharp's 'none' would hand back grey rows) but
  // tolerates libjpeg's warnings about extraneous bytes, common in real tiles.
  return { failOn: 'error', limitInputPixels: maxPixels === Infinity ? false : maxPixels };
}

async function decodeWithSharp(
  where: Where,
  bytes: Uint8Array,
  file: string,
  header: ImageHeader,
  maxPixels: number,
  alphaAsNodata: boolean,
): Promise<DecodedImage> {
  const sixteen = header.format === 'png' && header.bitDepth === 16;
  const grey = isGrey(header);
  // 'b-w' keeps grey in 1 channel but drops alpha; grey+alpha goes through sRGB and keeps R.
  const greyAlpha = grey && header.channels === 2;
  const space = sixteen ? (grey ? 'grey16' : 'rgb16') : grey && !greyAlpha ? 'b-w' : 'srgb';
  const decode = () =>
    sharp(bytes, sharpOptions(maxPixels))
      .toColourspace(space)
      .raw(sixteen ? { depth: 'ushort' } : undefined)
      .toBuffer({ resolveWithObject: true });
  const fail = (e: unknown, reason: string) =>
    fileError(where, file, `cannot decode ${header.format.toUpperCase()} (${header.width}x${header.height}): ${reason}`, e);
  const unknown = (e: unknown) => /^(unknown error)?$/i.test(String((e as Error)?.message ?? '').trim());
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await decode();
  } catch (e) {
    if (!unknown(e)) throw fail(e, (e as Error).message);
    // libvips keeps one error buffer per process: decodes failing at the same time can take each
    // other's message, leaving 'Unknown error'. Once more alone gives the real one (or the image).
    try {
      raw = await decode();
    } catch (again) {
      throw fail(again, unknown(again) ? 'a truncated or damaged file' : (again as Error).message);
    }
  }
  const { data, info } = raw;
  const { width, height, channels } = info;
  const n = width * height;
  const bytesPerSample = sixteen ? 2 : 1;
  if (width !== header.width || height !== header.height || data.length !== n * channels * bytesPerSample)
    throw fileError(
      where,
      file,
      `decoded to ${width}x${height}x${channels} (${data.length} bytes), but the header states ${header.width}x${header.height}: a damaged file`,
    );
  const samples = sixteen ? uint16View(data) : data;
  const hasAlpha = channels === 2 || channels === 4;
  const colour = greyAlpha ? [0] : Array.from({ length: hasAlpha ? channels - 1 : channels }, (_, c) => c);
  const alpha = hasAlpha ? channels - 1 : -1;
  const keep = hasAlpha && !alphaAsNodata ? [...colour, alpha] : colour;
  const out = sixteen ? new Uint16Array(keep.length * n) : new Uint8Array(keep.length * n);
  planarize(samples, channels, n, keep, out);
  const valid = hasAlpha && alphaAsNodata ? alphaValid(samples, channels, n, alpha) : null;
  return { data: out, channels: keep.length, height, width, bitDepth: sixteen ? 16 : 8, valid, format: header.format };
}

/** A Uint16Array over a Buffer's bytes (copied when the Buffer is not 2-byte aligned). */
function uint16View(b: Uint8Array): Uint16Array {
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, b.length >> 1);
  return new Uint16Array(b.slice().buffer, 0, b.length >> 1);
}

type Samples = Uint8Array | Uint16Array | Float32Array;

/** Interleaved [n, channels] to planar [keep.length, n], taking channels `keep` in that order. */
export function planarize(src: Samples, channels: number, n: number, keep: readonly number[], out: Samples): void {
  if (channels === 1 && keep.length === 1) {
    out.set(src.subarray(0, n));
    return;
  }
  if (channels >= 3 && keep.length >= 3 && keep[0] === 0 && keep[1] === 1 && keep[2] === 2) {
    // One pass writing three planes: the RGB(A) hot path, about twice as fast as three passes.
    for (let i = 0, s = 0, g = n, b = 2 * n; i < n; i++, s += channels) {
      out[i] = src[s]!;
      out[g + i] = src[s + 1]!;
      out[b + i] = src[s + 2]!;
    }
    for (let k = 3; k < keep.length; k++) copyChannel(src, channels, n, keep[k]!, out, k * n);
    return;
  }
  for (let k = 0; k < keep.length; k++) copyChannel(src, channels, n, keep[k]!, out, k * n);
}

function copyChannel(src: Samples, channels: number, n: number, c: number, out: Samples, at: number): void {
  for (let i = 0, s = c; i < n; i++, s += channels) out[at + i] = src[s]!;
}

function alphaValid(src: Samples, channels: number, n: number, alpha: number): Uint8Array {
  const valid = new Uint8Array(n);
  for (let i = 0, s = alpha; i < n; i++, s += channels) valid[i] = src[s] !== 0 ? 1 : 0;
  return valid;
}

type Raster = ArrayLike<number>;

async function readTiffBands(
  where: Where,
  bytes: Uint8Array,
  file: string,
): Promise<{ bands: Raster[]; width: number; height: number; nodata: number | null }> {
  try {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const buffer = (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
    const tiff = await (await loadGeoTiff()).fromArrayBuffer(buffer);
    const image = await tiff.getImage(0);
    const bands = (await image.readRasters({ interleave: false })) as unknown as Raster[];
    return { bands: [...bands], width: image.getWidth(), height: image.getHeight(), nodata: image.getGDALNoData() };
  } catch (e) {
    throw fileError(where, file, `cannot decode TIFF: ${(e as Error).message}`, e);
  }
}

async function decodeTiff(
  where: Where,
  bytes: Uint8Array,
  file: string,
  header: ImageHeader,
  alphaAsNodata: boolean,
): Promise<DecodedImage> {
  const { bands, width, height, nodata } = await readTiffBands(where, bytes, file);
  const n = width * height;
  const extra = header.extraSamples ?? [];
  const alphaAt = extra.findIndex((s) => s === 1 || s === 2);
  const alpha = alphaAt >= 0 ? bands.length - extra.length + alphaAt : -1;
  const kept = bands.filter((_, b) => !(alphaAsNodata && b === alpha));
  const kind = kept.every((b) => b instanceof Uint8Array) ? 8 : kept.every((b) => b instanceof Uint16Array) ? 16 : 32;
  const data =
    kind === 8 ? new Uint8Array(kept.length * n) : kind === 16 ? new Uint16Array(kept.length * n) : new Float32Array(kept.length * n);
  kept.forEach((b, k) => {
    if (b.length !== n) throw fileError(where, file, `band ${k + 1} decoded to ${b.length} samples, expected ${width}x${height} = ${n}`);
    data.set(b, k * n);
  });
  let valid: Uint8Array | null = null;
  if (alpha >= 0 && alphaAsNodata) {
    const a = bands[alpha]!;
    valid = new Uint8Array(n);
    for (let i = 0; i < n; i++) valid[i] = a[i] !== 0 ? 1 : 0;
  }
  if (nodata !== null) valid = nodataValid(data, kept.length, n, nodata, valid);
  return { data, channels: kept.length, height, width, bitDepth: kind, valid, format: 'tiff' };
}

/** GDAL's per-dataset mask: a pixel is nodata where every band equals the nodata value (NaN matching NaN). */
function nodataValid(data: Samples, bands: number, n: number, nodata: number, valid: Uint8Array | null): Uint8Array {
  const out = valid ?? new Uint8Array(n).fill(1);
  const isNodata = Number.isNaN(nodata) ? (v: number) => Number.isNaN(v) : (v: number) => v === nodata;
  for (let i = 0; i < n; i++) {
    let all = true;
    for (let b = 0; b < bands && all; b++) all = isNodata(data[b * n + i]!);
    if (all) out[i] = 0;
  }
  return out;
}

const MASK_KEYS = ['path', 'maxPixels'] as const;

/**
 * Decodes a mask file of class indices: a grey PNG (1-16 bits, sample values as stored: a 1-bit
 * mask gives 0 and 1), a palette PNG (its indices, not its colours), an RGB(A) PNG whose channels
 * are equal, a 1-band integer TIFF, a lossless WebP or a GIF whose colours are grey. A colour mask
 * or a lossy format (JPEG, lossy WebP) is an Error that says what to do instead.
 */
export async function decodeMask(input: string | Uint8Array, options?: { path?: string; maxPixels?: number }): Promise<DecodedMask> {
  const where = 'decodeMask';
  const o = readOptions(where, options, MASK_KEYS);
  const path = o.has('path') ? o.string('path') : undefined;
  const maxPixels = readMaxPixels(where, o.get('maxPixels'));
  const { bytes, file, header } = await open(where, input, path, maxPixels);
  const { width, height, format } = header;
  if (format === 'jpeg' || (format === 'webp' && header.lossless === false))
    throw fileError(
      where,
      file,
      `expected a lossless mask (PNG, TIFF, lossless WebP), got ${format === 'jpeg' ? 'a JPEG' : 'a lossy WebP'}: lossy compression blurs the edges between classes into values that are no class; save masks as PNG`,
    );
  // Palette and sub-byte PNGs need their stored indices (fast-png, on this thread); the rest
  // decode in sharp, off the main thread, so a loader's prefetching overlaps them.
  if (format === 'png' && (header.colorType === 'palette' || (header.bitDepth ?? 8) < 8)) return maskFromPng(where, bytes, file, header);
  // Alpha is dropped (alphaAsNodata): it says nothing about the class.
  const img =
    format === 'tiff'
      ? await decodeTiff(where, bytes, file, header, true)
      : await decodeWithSharp(where, bytes, file, header, maxPixels, true);
  if (img.bitDepth === 32)
    throw fileError(
      where,
      file,
      `expected 8- or 16-bit unsigned class indices, got ${header.sampleFormat} ${header.bitDepth}-bit TIFF samples`,
    );
  const n = width * height;
  const data = greyOf(where, file, img.data as Uint8Array | Uint16Array, width, n, img.channels, 1, n);
  return { data, height, width, palette: false };
}

function maskFromPng(where: Where, bytes: Uint8Array, file: string, header: ImageHeader): DecodedMask {
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw fileError(
      where,
      file,
      `cannot decode PNG (${header.width}x${header.height} ${header.colorType}): a truncated or damaged file (${(e as Error).message})`,
      e,
    );
  }
  const { width, height, channels, depth } = png;
  const n = width * height;
  let data = png.data as Uint8Array | Uint16Array;
  if (depth < 8) data = unpackBits(data as Uint8Array, width, height, depth);
  else if (!(data instanceof Uint8Array) && !(data instanceof Uint16Array)) data = new Uint8Array(data);
  if (data.length !== n * channels)
    throw fileError(where, file, `decoded to ${data.length} samples, expected ${width}x${height}x${channels}: a damaged file`);
  if (png.palette) return { data, height, width, palette: true };
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels; // alpha says nothing about the class
  return { data: greyOf(where, file, data, width, n, colour, channels, 1), height, width, palette: false };
}

/** Rows of 1-, 2- or 4-bit samples (each row starting on a byte) to one byte per sample. */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (packed[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * The first channel of `colour` channels that must be equal at every pixel, else an Error naming
 * the first pixel that differs. Sample c of pixel i is data[i * pixelStride + c * channelStride]
 * (interleaved: channels, 1; planar: 1, n).
 */
function greyOf<T extends Uint8Array | Uint16Array>(
  where: Where,
  file: string,
  data: T,
  width: number,
  n: number,
  colour: number,
  pixelStride: number,
  channelStride: number,
): T {
  if (colour === 1 && pixelStride === 1) return data.length === n ? data : (data.subarray(0, n) as T);
  const out = new (data.constructor as new (n: number) => T)(n);
  for (let i = 0, s = 0; i < n; i++, s += pixelStride) {
    const v = data[s]!;
    for (let c = 1; c < colour; c++) {
      if (data[s + c * channelStride] !== v) {
        const px = Array.from({ length: colour }, (_, k) => data[s + k * channelStride]).join(', ');
        throw fileError(
          where,
          file,
          `expected a mask of class indices (one channel, or channels that are equal), got a colour mask: pixel (x ${i % width}, y ${Math.floor(i / width)}) is (${px}); convert the colours to class indices (a grey or palette PNG)`,
        );
      }
    }
    out[i] = v;
  }
  return out;
}
