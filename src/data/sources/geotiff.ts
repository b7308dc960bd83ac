// GeoTIFF rasters with vector labels, chipped into windows that are read one at a time, so a
// raster larger than memory trains as well as a small one.
import { SourceDataset } from './source.js';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeCrs, reprojector } from '../../geo/crs.js';
import { type Polygon, readGeoJson } from '../../geo/geojson.js';
import { type Raster, type RasterInfo, openRaster } from '../../geo/geotiff.js';
import { polygonsToPixels, rasterize, transformPolygons } from '../../geo/rasterize.js';
import { invertTransform, windowTransform } from '../../geo/transform.js';
import { show, readOptions } from '../../validate.js';
import type { Sample, SampleMeta, Window } from '../dataset.js';
import type { DecodedImage } from '../decode.js';
import { Random } from '../random.js';
import {
  COMMON_KEYS,
  type CommonSettings,
  type SourceOptions,
  buildSample,
  checkIndex,
  listDir,
  readCommon,
  resolveScaling,
  spread,
  stemOf,
} from './common.js';
import { planGrid, planRandom, type RasterPlan } from './chips.js';

export interface GeoTiffOptions extends SourceOptions {
  /** The vector labels (GeoJSON); default: the only .geojson beside the rasters. */
  labels?: string;
  /** CRS of labels without a `crs` member; default EPSG:4326 (RFC 7946). */
  labelsCrs?: string | number;
  /** CRS of rasters that carry none. */
  rasterCrs?: string | number;
  /** 1-based bands to read (GDAL's numbering); default all. */
  bands?: number[];
  /** Window side in pixels; default 512. */
  size?: number;
  /** Grid step in pixels; default `size` (no overlap). */
  stride?: number;
  /** 'grid' (default) covers every raster; 'random' draws `samples` windows from `seed`. */
  sampling?: 'grid' | 'random';
  samples?: number;
  seed?: number;
  /** With random sampling, the share of windows centred near a building; default 0 (uniform). */
  buildingWeight?: number;
  allTouched?: boolean;
}

const KEYS = [
  ...COMMON_KEYS,
  'labels',
  'labelsCrs',
  'rasterCrs',
  'bands',
  'size',
  'stride',
  'sampling',
  'samples',
  'seed',
  'buildingWeight',
  'allTouched',
];

interface RasterEntry {
  raster: Raster;
  info: RasterInfo;
  crs: string;
  /** Label polygons in this raster's pixel coordinates, with their boxes. */
  polygons: Polygon[];
  boxes: Float64Array;
}

function pixelBoxes(polygons: readonly Polygon[]): Float64Array {
  const b = new Float64Array(polygons.length * 4);
  polygons.forEach((p, i) => {
    const xs = (p[0] ?? []).map((q) => q[0]);
    const ys = (p[0] ?? []).map((q) => q[1]);
    b.set([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], i * 4);
  });
  return b;
}

const BIT_DEPTH: Record<string, 8 | 16 | 32> = { uint8: 8, int8: 8, uint16: 16, int16: 16 };

/** Chips of one or more GeoTIFFs with building polygons burnt in, window by window. */
export class GeoTiffDataset extends SourceDataset {
  readonly format = 'geotiff';
  private windows: { raster: number; window: Window }[] = [];

  private constructor(
    private readonly rasters: RasterEntry[],
    settings: CommonSettings,
    readonly bands: number[],
    readonly labelPath: string | null,
    private readonly allTouched: boolean,
  ) {
    super(settings);
  }

  /** `paths`: a folder of .tif files, one .tif, or a list of them. */
  static async open(paths: string | readonly string[], options?: GeoTiffOptions): Promise<GeoTiffDataset> {
    const where = 'data.geotiff';
    const o = readOptions(where, options, KEYS);
    const settings = readCommon(o);
    const size = o.int('size', 512, { min: 1, max: 65536 });
    const stride = o.int('stride', size, { min: 1, max: 65536 });
    const sampling = o.choice('sampling', ['grid', 'random'] as const, 'grid');
    const samples = sampling === 'random' ? o.int('samples', undefined, { min: 1 }) : 0;
    if (sampling === 'grid' && o.has('samples')) throw new TypeError(`${where}: samples only applies to sampling: 'random'`);
    const seed = o.int('seed', 0, { min: 0, max: 0xffffffff });
    const buildingWeight = o.probability('buildingWeight', 0);
    const allTouched = o.bool('allTouched', false);
    const isCrs = (v: unknown) => typeof v === 'string' || typeof v === 'number';
    const labelsCrs = !o.has('labelsCrs')
      ? undefined
      : o.custom<string | number>('labelsCrs', undefined, isCrs, 'a CRS such as 32616 or "EPSG:32616"');
    const rasterCrs = !o.has('rasterCrs')
      ? undefined
      : o.custom<string | number>('rasterCrs', undefined, isCrs, 'a CRS such as 32616 or "EPSG:32616"');
    const { tifs, dir } = await listRasters(paths, where);
    const labelFile = o.has('labels') ? o.string('labels') : await findLabels(dir, where);
    const labels = labelFile === null ? null : await readGeoJson(labelFile, labelsCrs === undefined ? undefined : { crs: labelsCrs });
    const entries: RasterEntry[] = [];
    try {
      for (const path of tifs) {
        const raster = await openRaster(path, { maxPixels: settings.maxPixels });
        const info = raster.info;
        const entry: RasterEntry = { raster, info, crs: '', polygons: [], boxes: new Float64Array(0) };
        entries.push(entry);
        if (!info.transform)
          throw new Error(
            `${where}: ${path} has no georeference (no ModelTransformation or tie point with pixel scale), so its labels cannot be placed`,
          );
        const crs = info.crs ?? (rasterCrs === undefined ? null : normalizeCrs(rasterCrs));
        if (crs === null && labels !== null) {
          throw new Error(
            `${where}: ${path} has no CRS and the labels ${labelFile} are in ${labels.crs}: pass rasterCrs with the raster's CRS (e.g. rasterCrs: 32616)`,
          );
        }
        entry.crs = crs ?? '';
        if (labels !== null && crs !== null) {
          const inRasterCrs = transformPolygons(labels.polygons, reprojector(labels.crs, crs));
          entry.polygons = polygonsToPixels(inRasterCrs, invertTransform(info.transform));
          entry.boxes = pixelBoxes(entry.polygons);
        }
      }
    } catch (e) {
      await Promise.all(entries.map((en) => en.raster.close()));
      throw e;
    }
    const first = entries[0]!.info;
    const bands = o.intList(
      'bands',
      Array.from({ length: first.bands }, (_, i) => i + 1),
      { min: 1 },
    );
    const ds = new GeoTiffDataset(entries, settings, bands, labelFile, allTouched);
    try {
      for (const en of entries) {
        const bad = bands.find((b) => b > en.info.bands);
        if (bad !== undefined)
          throw new RangeError(
            `${where}: ${en.info.path} has ${en.info.bands} band(s), so bands must be from 1 to ${en.info.bands}, got ${bad}`,
          );
        if (settings.channels !== null && bands.length !== settings.channels) {
          throw new RangeError(
            `${where}: ${en.info.path} gives ${bands.length} band(s) (${show(bands)}) but the model takes ${settings.channels} (channels); pick bands with bands: [...] or build the model with inChannels: ${bands.length}`,
          );
        }
        if (en.info.dtype !== first.dtype)
          throw new TypeError(
            `${where}: every raster must have one data type: ${first.path} is ${first.dtype}, ${en.info.path} is ${en.info.dtype}`,
          );
      }
      if (labels !== null) ds.warnings.push(...labels.warnings);
      const plans: RasterPlan[] = entries.map((en) => ({ width: en.info.width, height: en.info.height, boxes: en.boxes }));
      ds.windows = sampling === 'grid' ? planGrid(plans, size, stride) : planRandom(plans, size, samples, new Random(seed), buildingWeight);
      ds.scaling = await resolveScaling(settings.scale, BIT_DEPTH[first.dtype] ?? 32, async function* () {
        const grid = planGrid(plans, size, size);
        for (const i of spread(grid.length, 32)) yield await ds.readWindowImage(grid[i]!.raster, grid[i]!.window);
      });
    } catch (e) {
      await ds.close();
      throw e;
    }
    return ds;
  }

  override get length(): number {
    return this.windows.length;
  }

  get channels(): number {
    return this.bands.length;
  }

  /** The rasters' headers. */
  get infos(): RasterInfo[] {
    return this.rasters.map((r) => r.info);
  }

  override metaAt(index: number): SampleMeta {
    const { raster, window } = this.windows[checkIndex(index, this.windows.length)]!;
    const r = this.rasters[raster]!;
    const meta: SampleMeta = {
      name: `${stemOf(r.info.path)}@${window.x},${window.y}`,
      path: r.info.path,
      window: { ...window },
      group: stemOf(r.info.path),
    };
    if (this.labelPath) meta.labelPath = this.labelPath;
    if (r.info.transform) meta.transform = windowTransform(r.info.transform, window.x, window.y);
    if (r.crs) meta.crs = r.crs;
    return meta;
  }

  /** The window's pixels as a decoded image: invalid where every band holds nodata or the window leaves the raster. */
  async readWindowImage(raster: number, window: Window): Promise<DecodedImage> {
    const { info, raster: handle } = this.rasters[raster]!;
    const nodata = info.nodata;
    const raw = await handle.readWindow(window, { bands: this.bands.map((b) => b - 1), fill: nodata ?? 0 });
    const plane = window.width * window.height;
    const valid = new Uint8Array(plane).fill(1);
    for (let row = 0; row < window.height; row++) {
      const y = window.y + row;
      for (let col = 0; col < window.width; col++) {
        const x = window.x + col;
        if (x < 0 || y < 0 || x >= info.width || y >= info.height) valid[row * window.width + col] = 0;
      }
    }
    if (nodata !== null) {
      for (let i = 0; i < plane; i++) {
        let all = true;
        for (let b = 0; b < this.bands.length && all; b++) all = raw[b * plane + i] === nodata;
        if (all) valid[i] = 0;
      }
    }
    const data =
      raw instanceof Uint8Array || raw instanceof Uint16Array || raw instanceof Float32Array
        ? raw
        : Float32Array.from(raw as ArrayLike<number>);
    const bitDepth = raw instanceof Uint8Array ? 8 : raw instanceof Uint16Array ? 16 : 32;
    return { data, channels: this.bands.length, height: window.height, width: window.width, bitDepth, valid, format: 'tiff' };
  }

  /** The building mask of window `index` (1 = building, ignore where there is no data). */
  rasterizeWindow(index: number, valid: Uint8Array | null): Uint8Array {
    const { raster, window } = this.windows[checkIndex(index, this.windows.length)]!;
    const { polygons, boxes } = this.rasters[raster]!;
    const x1 = window.x + window.width;
    const y1 = window.y + window.height;
    const hits: Polygon[] = [];
    for (let i = 0; i < polygons.length; i++) {
      if (boxes[i * 4]! <= x1 && boxes[i * 4 + 2]! >= window.x && boxes[i * 4 + 1]! <= y1 && boxes[i * 4 + 3]! >= window.y)
        hits.push(polygons[i]!);
    }
    const local = transformPolygons(hits, (x, y) => [x - window.x, y - window.y]);
    const mask = rasterize(local, { width: window.width, height: window.height, allTouched: this.allTouched, burn: 1 });
    if (valid) for (let i = 0; i < mask.length; i++) if (valid[i] === 0) mask[i] = this.settings.ignoreIndex;
    return mask;
  }

  /** Window `index`'s pixels as read, before scaling (for statistics and conversion). */
  override async readImage(index: number): Promise<DecodedImage> {
    const { raster, window } = this.windows[checkIndex(index, this.windows.length)]!;
    return this.readWindowImage(raster, window);
  }

  override async get(index: number): Promise<Sample> {
    const image = await this.readImage(index);
    const mask = this.rasterizeWindow(index, image.valid);
    return buildSample(image, this.scaling, mask, this.metaAt(index));
  }

  /** Closes the rasters' file handles. */
  async close(): Promise<void> {
    await Promise.all(this.rasters.map((r) => r.raster.close()));
  }
}

async function listRasters(paths: string | readonly string[], where: string): Promise<{ tifs: string[]; dir: string }> {
  const isTif = (p: string) => /\.tiff?$/i.test(p);
  if (typeof paths !== 'string') {
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && isTif(p))) {
      throw new TypeError(`${where}: paths must be a folder, a .tif file or a non-empty list of .tif files, got ${show(paths)}`);
    }
    return { tifs: [...paths], dir: join(paths[0]!, '..') };
  }
  let isDir: boolean;
  try {
    isDir = (await stat(paths)).isDirectory();
  } catch (err) {
    throw new Error(`${where}: cannot open ${paths}: ${(err as Error).message}`, { cause: err });
  }
  if (!isDir) return { tifs: [paths], dir: join(paths, '..') };
  const tifs = (await listDir(paths, where)).files.filter(isTif).map((f) => join(paths, f));
  if (tifs.length === 0) throw new Error(`${where}: no .tif or .tiff files in ${paths}`);
  return { tifs, dir: paths };
}

async function findLabels(dir: string, where: string): Promise<string | null> {
  const json = (await listDir(dir, where)).files.filter((f) => /\.geojson$/i.test(f));
  if (json.length > 1) throw new Error(`${where}: ${dir} holds several .geojson files (${json.join(', ')}): pass labels to pick one`);
  return json.length === 1 ? join(dir, json[0]!) : null;
}
