// What every source shares: its common options, file listing, mask checks and building a Sample.
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { type Tensor, torch } from '../../torch/index.js';
import { type OptionReader, is, show } from '../../validate.js';
import { DEFAULT_IGNORE_INDEX, type Sample, type SampleMeta } from '../dataset.js';
import { DEFAULT_MAX_PIXELS, type DecodedImage } from '../decode.js';
import { BandStats, stretchFromStats } from '../band-stats.js';
import { type Scaling, scaleToFloat } from '../normalize.js';

/** Image files a source lists, by extension (the bytes are sniffed when decoded). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp'];

/** Options every source takes. */
export interface SourceOptions {
  /** Mask value of pixels to ignore (nodata, unlabelled); default 255. */
  ignoreIndex?: number;
  /** Classes the masks index; default 2 (background, building). */
  classes?: number;
  /**
   * How pixels become [0, 1]: 'auto' (default) divides 8-bit imagery by 255 and stretches deeper
   * imagery between the 2nd and 98th percentiles of each band, computed when the source opens;
   * 'stats' always stretches; or an explicit Scaling (e.g. from `segkit data stats`).
   */
  scale?: 'auto' | 'stats' | Scaling;
  /** Largest image (width x height) decoded; checked from the header first. */
  maxPixels?: number;
  /** Bands every image must have (the model's inChannels); checked per file. */
  channels?: number;
}

export const COMMON_KEYS = ['ignoreIndex', 'classes', 'scale', 'maxPixels', 'channels'] as const;

export interface CommonSettings {
  ignoreIndex: number;
  classes: number;
  scale: 'auto' | 'stats' | Scaling;
  maxPixels: number;
  channels: number | null;
}

function isScaling(v: unknown): v is Scaling {
  if (!is.object(v)) return false;
  const s = v as Record<string, unknown>;
  if (s.kind === 'divide') return is.number(s.by) && (s.by as number) > 0;
  if (s.kind === 'stretch') {
    const ok = (a: unknown) => Array.isArray(a) && a.length > 0 && a.every((x) => is.number(x) && Number.isFinite(x));
    return ok(s.low) && ok(s.high) && (s.low as number[]).length === (s.high as number[]).length;
  }
  return false;
}

export function readCommon<O extends object>(o: OptionReader<O>): CommonSettings {
  const classes = o.int('classes', 2, { min: 1, max: 65535 });
  return {
    ignoreIndex: o.int('ignoreIndex', DEFAULT_IGNORE_INDEX, { min: 0, max: 65535 }),
    classes,
    scale: o.custom(
      'scale',
      'auto',
      (v) => v === 'auto' || v === 'stats' || isScaling(v),
      "'auto', 'stats', { kind: 'divide', by } or { kind: 'stretch', low: number[], high: number[] }",
    ),
    maxPixels: o.int('maxPixels', DEFAULT_MAX_PIXELS, { min: 1 }),
    channels: o.has('channels') ? o.int('channels', undefined, { min: 1 }) : null,
  };
}

/** An error about one file: the message starts with the path, so a list of them reads well. */
export class DataFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
    this.name = 'DataFileError';
  }
}

/** A file name without its directory and last extension. */
export function stemOf(path: string): string {
  const name = basename(path);
  return name.slice(0, name.length - extname(name).length);
}

/** Sorted entries of `dir`, with a message naming the folder when it cannot be read. */
export async function listDir(dir: string, where: string): Promise<{ files: string[]; dirs: string[] }> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`${where}: cannot read the folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) dirs.push(e.name);
    else if (e.isFile() || e.isSymbolicLink()) files.push(e.name);
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { files: files.sort(order), dirs: dirs.sort(order) };
}

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

export function joinAll(dir: string, names: readonly string[]): string[] {
  return names.map((n) => join(dir, n));
}

/**
 * Checks a class mask: every value below `classes` or equal to `ignoreIndex`. Counts all the
 * offending pixels so the message says how bad the file is, not only where it starts.
 */
export function checkMaskValues(mask: ArrayLike<number>, width: number, classes: number, ignoreIndex: number, path: string): void {
  let bad = 0;
  let first = -1;
  const seen = new Set<number>();
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i]!;
    if (v < classes || v === ignoreIndex) continue;
    if (first < 0) first = i;
    bad++;
    if (seen.size < 8) seen.add(v);
  }
  if (bad === 0) return;
  throw new DataFileError(
    path,
    `mask values must be class indices 0..${classes - 1} or the ignore value ${ignoreIndex}, got ${[...seen].join(', ')} ` +
      `in ${bad} pixel(s), first at (x ${first % width}, y ${Math.floor(first / width)}); set classes or ignoreIndex to match the data`,
  );
}

/**
 * Binary masks saved as 0/255 read as 0/1 when the source has two classes: a 255 there is a
 * building, never an ignore value guessed from the picture. Masks with other values pass as is.
 */
export function binaryToIndices(mask: Uint8Array | Uint16Array, classes: number): void {
  if (classes !== 2) return;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i]!;
    if (v !== 0 && v !== 255) return;
  }
  for (let i = 0; i < mask.length; i++) if (mask[i] === 255) mask[i] = 1;
}

/** Marks pixels without data as ignored. */
export function applyValid(mask: Uint8Array | Uint16Array, valid: Uint8Array | null, ignoreIndex: number): void {
  if (!valid) return;
  for (let i = 0; i < mask.length; i++) if (valid[i] === 0) mask[i] = ignoreIndex;
}

/** A mask array that holds `ignoreIndex`. */
export function newMask(size: number, ignoreIndex: number): Uint8Array | Uint16Array {
  return ignoreIndex > 255 ? new Uint16Array(size) : new Uint8Array(size);
}

export function checkChannels(channels: number, settings: CommonSettings, path: string): void {
  if (settings.channels !== null && channels !== settings.channels) {
    throw new DataFileError(
      path,
      `the image has ${channels} band(s) but the dataset was opened with channels: ${settings.channels} ` +
        `(the model's inChannels); pick bands or build the model with inChannels: ${channels}`,
    );
  }
}

/**
 * The image as float32 [C, H, W] in [0, 1] (pixels without data 0). 8-bit images scale in
 * libtorch (a uint8 tensor, one conversion, one multiply), deeper ones through scaleToFloat.
 */
export function imageTensor(image: DecodedImage, scaling: Scaling): Tensor {
  const shape = [image.channels, image.height, image.width];
  if (!(image.data instanceof Uint8Array)) return torch.tensor(scaleToFloat(image, scaling), { shape });
  const { data, valid, channels, height, width } = image;
  return torch.tidy(() => {
    let t = torch.tensor(data, { shape }).float();
    if (scaling.kind === 'divide') t = t.div_(scaling.by);
    else {
      const low = torch.tensor(Float32Array.from(scaling.low), { shape: [channels, 1, 1] });
      const range = torch.tensor(
        Float32Array.from(scaling.high, (h, c) => h - scaling.low[c]!),
        { shape: [channels, 1, 1] },
      );
      t = t.sub_(low).div_(range);
    }
    t = t.clamp_(0, 1);
    if (valid) t = t.mul_(torch.tensor(valid, { shape: [1, height, width] }));
    return t;
  });
}

/** Tensors of one sample: the image scaled by `scaling`, the mask as int64 class indices. */
export function buildSample(image: DecodedImage, scaling: Scaling, mask: Uint8Array | Uint16Array, meta: SampleMeta): Sample {
  const img = imageTensor(image, scaling);
  try {
    const m = mask instanceof Uint16Array ? Int32Array.from(mask) : mask;
    const maskTensor = torch.tensor(m, { shape: [image.height, image.width], dtype: 'int64' });
    return { image: img, mask: maskTensor, meta };
  } catch (e) {
    img.dispose();
    throw e;
  }
}

/** Tensors of a multilabel sample: the mask float32 [K, H, W] (1 = the class is present). */
export function buildMultilabelSample(
  image: DecodedImage,
  scaling: Scaling,
  mask: Float32Array,
  classes: number,
  meta: SampleMeta,
): Sample {
  const img = imageTensor(image, scaling);
  try {
    return { image: img, mask: torch.tensor(mask, { shape: [classes, image.height, image.width] }), meta };
  } catch (e) {
    img.dispose();
    throw e;
  }
}

/**
 * The scaling a source uses: explicit, or 8-bit / 255, or a percentile stretch from band
 * statistics of `sampleImages` (called only when needed, so 8-bit sources decode nothing).
 */
export async function resolveScaling(
  scale: CommonSettings['scale'],
  bitDepth: number,
  sampleImages: () => AsyncIterable<DecodedImage>,
): Promise<Scaling> {
  if (scale !== 'auto' && scale !== 'stats') return scale;
  if (scale === 'auto' && bitDepth <= 8) return { kind: 'divide', by: 255 };
  const stats = new BandStats();
  for await (const image of sampleImages()) stats.update(image);
  const result = stats.result();
  if (result.count === 0) throw new Error(`cannot compute band statistics for scale ${show(scale)}: no valid pixels in the sampled images`);
  return stretchFromStats(result);
}

/** At most `n` indices spread evenly over [0, length). */
export function spread(length: number, n: number): number[] {
  if (length <= n) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i * length) / n));
}

/** The index as an integer in [0, length), or a RangeError naming the dataset's size. */
export function checkIndex(index: number, length: number): number {
  if (Number.isInteger(index) && index >= 0 && index < length) return index;
  throw new RangeError(`dataset: index must be an integer from 0 to ${length - 1}, got ${String(index)}`);
}
