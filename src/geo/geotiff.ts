// Reading GeoTIFF rasters window by window with geotiff.js: the header (size, bands, sample
// type, nodata, georeference) once at open, then only the strips or tiles a window needs, so
// memory stays bounded by the window, never by the raster. Decoding runs on the calling thread
// (no worker pool): data loaders already read in parallel across files.

import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import { loadGeoTiff } from './geotiff-module.js';
import { checkIntList, checkNumber, invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import { checkTiffHeader } from './tiff-header.js';
import type { GeoTransform } from './transform.js';

/** The sample types segkit reads, by their numpy/PyTorch names. */
export type RasterDType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

/** The pixels of a window, in the raster's own sample type. */
export type RasterArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** What a GeoTIFF's header says. */
export interface RasterInfo {
  path: string;
  width: number;
  height: number;
  bands: number;
  dtype: RasterDType;
  /** The GDAL_NODATA tag's value; null without one. */
  nodata: number | null;
  /** From ModelTransformation, or ModelTiepoint + ModelPixelScale (PixelIsPoint shifted half a pixel, as GDAL does); null without either. */
  transform: GeoTransform | null;
  /** 'EPSG:<code>' from ProjectedCSTypeGeoKey, else GeographicTypeGeoKey; null when absent or user-defined. */
  crs: string | null;
  /** Why the file's CRS has no EPSG code segkit could carry on (a user-defined projection, say); absent when it has one or none. */
  crsUnsupported?: string;
  /** Block size: the tile size, or for strips width x rowsPerStrip. */
  tileWidth: number;
  tileHeight: number;
}

/** Options of `openRaster`. */
export interface OpenRasterOptions {
  /** The most pixels (width * height) a raster may have, checked from the header before any pixel is read; default 268402689 (sharp's limitInputPixels). */
  maxPixels?: number;
}

/** A window of pixels: its top-left pixel (x, y) and its size. */
export interface RasterWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Options of `Raster.readWindow`. */
export interface ReadWindowOptions {
  /** 0-based band indices to read, in the order wanted (default all). */
  bands?: number[];
  /** The value for parts of the window outside the raster (default nodata ?? 0). */
  fill?: number;
}

/** An open GeoTIFF. */
export interface Raster {
  readonly info: RasterInfo;
  /**
   * Band-sequential pixels of the window, [bands, height, width] flattened, in the raster's own
   * dtype's typed array; parts of the window outside the raster are filled with `fill` (default:
   * nodata ?? 0). A window entirely outside the raster is a RangeError.
   */
  readWindow(window: RasterWindow, options?: ReadWindowOptions): Promise<RasterArray>;
  /** Closes the file; reads after this fail. */
  close(): Promise<void>;
}

/** sharp's default limitInputPixels: 16383 x 16383. */
export const DEFAULT_MAX_PIXELS = 268402689;

const ARRAYS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

const RANGES: Record<RasterDType, [number, number] | null> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
  float32: null,
  float64: null,
};

const USER_DEFINED = 32767;

function dtypeOf(path: string, image: GeoTIFFImage, bands: number): RasterDType {
  const types = new Set<string>();
  for (let b = 0; b < bands; b++) types.add(`${image.getSampleFormat(b)}:${image.getBitsPerSample(b)}`);
  if (types.size > 1)
    throw new Error(`openRaster: ${path} mixes sample types across bands (${[...types].join(', ')}); segkit reads one type per raster`);
  const [format, bits] = [...types][0]!.split(':').map(Number) as [number, number];
  const name = format === 1 ? `uint${bits}` : format === 2 ? `int${bits}` : format === 3 ? `float${bits}` : '';
  if (!(name in ARRAYS)) {
    const kind = format === 1 ? 'unsigned' : format === 2 ? 'signed' : format === 3 ? 'float' : `SampleFormat ${format}`;
    throw new Error(`openRaster: ${path} has ${bits}-bit ${kind} samples; segkit reads ${Object.keys(ARRAYS).join(', ')}`);
  }
  return name as RasterDType;
}

function parseNodata(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const s = value.replace(/\0+$/, '').trim();
  if (s === '') return null;
  if (/^[+-]?nan$/i.test(s)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  const v = Number(s);
  return Number.isNaN(v) ? Number.parseFloat(s) : v;
}

async function transformOf(image: GeoTIFFImage, pixelIsPoint: boolean): Promise<GeoTransform | null> {
  const dir = image.fileDirectory;
  let t: [number, number, number, number, number, number] | null = null;
  const mt = dir.hasTag('ModelTransformation') ? ((await dir.loadValue('ModelTransformation')) as ArrayLike<number>) : undefined;
  if (mt && mt.length >= 8) {
    t = [mt[3]!, mt[0]!, mt[1]!, mt[7]!, mt[4]!, mt[5]!];
  } else {
    const tp = dir.hasTag('ModelTiepoint') ? ((await dir.loadValue('ModelTiepoint')) as ArrayLike<number>) : undefined;
    const scale = dir.hasTag('ModelPixelScale') ? ((await dir.loadValue('ModelPixelScale')) as ArrayLike<number>) : undefined;
    if (!tp || tp.length < 6 || !scale || scale.length < 2) return null;
    const [i, j, , x, y] = [tp[0]!, tp[1]!, tp[2]!, tp[3]!, tp[4]!];
    t = [x - i * scale[0]!, scale[0]!, 0, y + j * scale[1]!, 0, -scale[1]!];
  }
  if (pixelIsPoint) {
    // A PixelIsPoint raster's tie point is a pixel centre; GDAL moves it to the corner.
    t[0] -= t[1] * 0.5 + t[2] * 0.5;
    t[3] -= t[4] * 0.5 + t[5] * 0.5;
  }
  return t.every(Number.isFinite) ? t : null;
}

function crsOf(keys: Record<string, unknown> | null): string | null {
  if (!keys) return null;
  for (const key of ['ProjectedCSTypeGeoKey', 'GeographicTypeGeoKey']) {
    const code = keys[key];
    if (typeof code === 'number' && Number.isInteger(code) && code > 0 && code !== USER_DEFINED) return `EPSG:${code}`;
  }
  return null;
}

const MODEL_TYPES: Record<number, string> = { 1: 'projected', 2: 'geographic', 3: 'geocentric' };

/** A description of a CRS the GeoKeys define without an EPSG code (user-defined parameters), or null. */
function unsupportedCrs(keys: Record<string, unknown> | null): string | null {
  if (!keys || crsOf(keys) !== null) return null;
  const model = keys.GTModelTypeGeoKey;
  const projected = keys.ProjectedCSTypeGeoKey;
  const geographic = keys.GeographicTypeGeoKey;
  if (model === undefined && projected === undefined && geographic === undefined) return null;
  const kind = typeof model === 'number' ? (MODEL_TYPES[model] ?? `model type ${model}`) : 'unknown';
  const params =
    typeof keys.ProjCoordTransGeoKey === 'number'
      ? `, coordinate transformation ${keys.ProjCoordTransGeoKey} with its parameters in GeoKeys`
      : '';
  const citation = typeof keys.GTCitationGeoKey === 'string' && keys.GTCitationGeoKey !== 'unknown' ? ` "${keys.GTCitationGeoKey}"` : '';
  return `a user-defined ${kind} CRS${citation} (no EPSG code: ProjectedCSTypeGeoKey ${projected ?? 'absent'}, GeographicTypeGeoKey ${geographic ?? 'absent'}${params})`;
}

/** The end of the last strip or tile, to catch truncated files at open: geotiff.js reads past the end of a file as zeros. */
async function dataEnd(image: GeoTIFFImage): Promise<number> {
  const dir = image.fileDirectory;
  const tiled = dir.hasTag('TileOffsets');
  const offsetsTag = tiled ? 'TileOffsets' : 'StripOffsets';
  const countsTag = tiled ? 'TileByteCounts' : 'StripByteCounts';
  const offsets = (await dir.loadValue(offsetsTag)) as ArrayLike<number | bigint> | number | undefined;
  const counts = (await dir.loadValue(countsTag)) as ArrayLike<number | bigint> | number | undefined;
  if (offsets === undefined || counts === undefined) return 0;
  const o = typeof offsets === 'number' ? [offsets] : offsets;
  const c = typeof counts === 'number' ? [counts] : counts;
  let end = 0;
  for (let i = 0; i < Math.min(o.length, c.length); i++) {
    const n = Number(c[i]!);
    if (n > 0) end = Math.max(end, Number(o[i]!) + n);
  }
  return end;
}

class GeoTiffRaster implements Raster {
  private closed = false;

  constructor(
    readonly info: RasterInfo,
    private readonly tiff: GeoTIFF,
    private readonly image: GeoTIFFImage,
  ) {}

  async readWindow(window: RasterWindow, options?: ReadWindowOptions): Promise<RasterArray> {
    const where = 'Raster.readWindow';
    const { path, width: W, height: H, bands: B, dtype, nodata } = this.info;
    if (this.closed) throw new Error(`${where}: ${path} is closed`);
    if (!is.object(window)) throw invalidParameterError(where, 'window', 'an object {x, y, width, height}', window);
    const w = readOptions(where, window as unknown as Record<string, unknown>, ['x', 'y', 'width', 'height']);
    const x = w.int('x', undefined, {});
    const y = w.int('y', undefined, {});
    const width = w.int('width');
    const height = w.int('height');
    if (x >= W || y >= H || x + width <= 0 || y + height <= 0) {
      throw outOfRangeError(
        where,
        'window',
        `a window overlapping the ${W} x ${H} raster ${path}`,
        `{x: ${x}, y: ${y}, width: ${width}, height: ${height}}` as unknown,
      );
    }
    const o = readOptions(where, options, ['bands', 'fill']);
    const bands = o.has('bands')
      ? checkIntList(where, 'bands', o.get('bands'), { min: 0, max: B - 1 })
      : Array.from({ length: B }, (_, b) => b);
    const range = RANGES[dtype];
    const fallback = nodata ?? 0;
    const fill = o.has('fill') ? checkNumber(where, 'fill', o.get('fill')) : fallback;
    if (range && !(Number.isInteger(fill) && fill >= range[0] && fill <= range[1])) {
      throw outOfRangeError(
        where,
        o.has('fill') ? 'fill' : 'fill (the nodata value)',
        `an integer from ${range[0]} to ${range[1]} for a ${dtype} raster`,
        fill,
      );
    }
    const x0 = Math.max(x, 0);
    const y0 = Math.max(y, 0);
    const x1 = Math.min(x + width, W);
    const y1 = Math.min(y + height, H);
    const inside = x0 === x && y0 === y && x1 === x + width && y1 === y + height;
    let data: RasterArray[];
    try {
      data = (await this.image.readRasters({
        window: [x0, y0, x1, y1],
        samples: [...bands],
        interleave: false,
      })) as unknown as RasterArray[];
    } catch (e) {
      throw new Error(`${where}: cannot decode ${path} window [${x0}, ${y0}, ${x1}, ${y1}): ${(e as Error)?.message ?? e}`, { cause: e });
    }
    if (inside && bands.length === 1) return data[0]!;
    const plane = width * height;
    const out = new ARRAYS[dtype](bands.length * plane);
    if (!inside) out.fill(fill);
    const cw = x1 - x0;
    for (let b = 0; b < bands.length; b++) {
      const src = data[b]!;
      if (inside) {
        out.set(src as ArrayLike<number>, b * plane);
        continue;
      }
      for (let r = 0; r < y1 - y0; r++) {
        out.set(src.subarray(r * cw, (r + 1) * cw) as ArrayLike<number>, b * plane + (y0 - y + r) * width + (x0 - x));
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tiff.close();
  }
}

/**
 * Opens a GeoTIFF (or plain TIFF) and reads its header: size, bands, sample type, nodata,
 * transform and CRS. Throws for a file that is not a TIFF (naming its first bytes), a truncated
 * one, a sample type segkit does not read, and one larger than `maxPixels` (checked before any
 * pixel is read). The first image of a multi-image file is used (overviews are ignored).
 */
export async function openRaster(path: string, options?: OpenRasterOptions): Promise<Raster> {
  if (typeof path !== 'string' || path === '') throw invalidParameterError('openRaster', 'path', 'a file path', path);
  const o = readOptions('openRaster', options, ['maxPixels']);
  const maxPixels = o.int('maxPixels', DEFAULT_MAX_PIXELS);
  const size = await checkTiffHeader(path);
  let tiff: GeoTIFF | undefined;
  try {
    tiff = await (await loadGeoTiff()).fromFile(path);
    const image = await tiff.getImage(0);
    const width = image.getWidth();
    const height = image.getHeight();
    if (!(width > 0 && height > 0)) throw new Error(`openRaster: ${path} is a corrupt TIFF: its image is ${width} x ${height} pixels`);
    if (width * height > maxPixels) {
      throw outOfRangeError(
        'openRaster',
        'maxPixels',
        `at least the raster's ${width} x ${height} = ${width * height} pixels to open ${path}`,
        maxPixels,
      );
    }
    const bands = image.getSamplesPerPixel();
    const dtype = dtypeOf(path, image, bands);
    const end = await dataEnd(image);
    if (end > size) throw new Error(`openRaster: ${path} is truncated: its pixel data runs to byte ${end}, the file has ${size} bytes`);
    const dir = image.fileDirectory;
    for (const tag of ['GeoKeyDirectory', 'GeoDoubleParams', 'GeoAsciiParams', 'GDAL_NODATA'] as const)
      if (dir.hasTag(tag)) await dir.loadValue(tag);
    const keys = image.getGeoKeys() as Record<string, unknown> | null;
    const info: RasterInfo = {
      path,
      width,
      height,
      bands,
      dtype,
      nodata: parseNodata(dir.hasTag('GDAL_NODATA') ? dir.getValue('GDAL_NODATA') : undefined),
      transform: await transformOf(image, keys?.GTRasterTypeGeoKey === 2),
      crs: crsOf(keys),
      tileWidth: image.getTileWidth(),
      tileHeight: image.getTileHeight(),
    };
    const unsupported = unsupportedCrs(keys);
    if (unsupported) info.crsUnsupported = unsupported;
    return new GeoTiffRaster(info, tiff, image);
  } catch (e) {
    await Promise.resolve(tiff?.close()).catch(() => undefined);
    const message = (e as Error)?.message ?? String(e);
    if (message.startsWith('openRaster:')) throw e;
    throw new Error(`openRaster: ${path} is a truncated or corrupt TIFF: ${message}`, { cause: e });
  }
}
