// Slippy-map tiles named `*-<x>-<y>-<z>.<ext>` with building polygons in a GeoJSON, one folder
// per region (the HOT fAIr / OpenAerialMap layout); masks are rasterised on the fly.
import { SourceDataset } from './source.js';
import { basename, join } from 'node:path';
import { reprojector } from '../../geo/crs.js';
import { type Polygon, readGeoJson } from '../../geo/geojson.js';
import { polygonsToPixels, rasterize, transformPolygons } from '../../geo/rasterize.js';
import { type TileId, parseTileName, tileBounds3857, tileTransform } from '../../geo/tiles.js';
import { invertTransform } from '../../geo/transform.js';
import { readOptions } from '../../validate.js';
import type { Sample, SampleMeta } from '../dataset.js';
import { type DecodedImage, decodeImage } from '../decode.js';
import {
  COMMON_KEYS,
  type CommonSettings,
  DataFileError,
  type SourceOptions,
  applyValid,
  buildSample,
  checkChannels,
  checkIndex,
  isImageFile,
  listDir,
  readCommon,
  stemOf,
} from './common.js';

export interface TilesOptions extends SourceOptions {
  /** The label file of a single region folder; default: labels.geojson, else its only .geojson. */
  labels?: string;
  /** CRS of a GeoJSON without a `crs` member; default EPSG:4326 (RFC 7946). */
  labelsCrs?: string | number;
  /** Only these zoom levels. */
  zooms?: number[];
  /** Burn every pixel a building touches, not only those whose centre it covers (gdal_rasterize -at). */
  allTouched?: boolean;
}

const KEYS = [...COMMON_KEYS, 'labels', 'labelsCrs', 'zooms', 'allTouched'];

interface Region {
  name: string;
  dir: string;
  labelPath: string;
  /** Polygons in EPSG:3857 metres with their bounding boxes. */
  polygons: Polygon[];
  boxes: Float64Array;
}

interface TileEntry {
  region: Region;
  file: string;
  tile: TileId;
  name: string;
}

function tileFiles(files: readonly string[]): string[] {
  return files.filter((f) => isImageFile(f) && parseTileName(f) !== null);
}

function pickLabels(dir: string, files: readonly string[], given: string | null): string | null {
  if (given !== null) return join(dir, given);
  if (files.includes('labels.geojson')) return join(dir, 'labels.geojson');
  const json = files.filter((f) => /\.(geo)?json$/i.test(f));
  return json.length === 1 ? join(dir, json[0]!) : null;
}

function boxesOf(polygons: readonly Polygon[]): Float64Array {
  const boxes = new Float64Array(polygons.length * 4);
  polygons.forEach((p, i) => {
    let minx = Infinity;
    let miny = Infinity;
    let maxx = -Infinity;
    let maxy = -Infinity;
    for (const [x, y] of p[0] ?? []) {
      if (x < minx) minx = x;
      if (x > maxx) maxx = x;
      if (y < miny) miny = y;
      if (y > maxy) maxy = y;
    }
    boxes.set([minx, miny, maxx, maxy], i * 4);
  });
  return boxes;
}

/** Slippy-map tiles with GeoJSON building polygons; a folder of region folders works too. */
export class TilesDataset extends SourceDataset {
  readonly format = 'tiles';

  private constructor(
    readonly root: string,
    private readonly entries: TileEntry[],
    settings: CommonSettings,
    private readonly allTouched: boolean,
  ) {
    super(settings);
  }

  static async open(root: string, options?: TilesOptions): Promise<TilesDataset> {
    const where = 'data.tiles';
    const o = readOptions(where, options, KEYS);
    const settings = readCommon(o);
    const zooms = o.has('zooms') ? new Set(o.intList('zooms', undefined, { min: 0, max: 30 })) : null;
    const allTouched = o.bool('allTouched', false);
    const labelsCrs = !o.has('labelsCrs')
      ? undefined
      : o.custom<string | number>(
          'labelsCrs',
          undefined,
          (v) => typeof v === 'string' || typeof v === 'number',
          'a CRS such as 4326 or "EPSG:4326"',
        );
    const given = o.has('labels') ? o.string('labels') : null;
    const top = await listDir(root, where);
    const folders: { name: string; dir: string; files: string[] }[] = [];
    if (tileFiles(top.files).length > 0) folders.push({ name: basename(root), dir: root, files: top.files });
    else {
      if (given !== null) throw new TypeError(`${where}: labels names one label file, but ${root} holds region folders, each with its own`);
      for (const d of top.dirs) {
        const files = (await listDir(join(root, d), where)).files;
        if (tileFiles(files).length > 0) folders.push({ name: d, dir: join(root, d), files });
      }
    }
    if (folders.length === 0) {
      throw new Error(
        `${where}: no slippy-map tiles in ${root}: expected files named <prefix>-<x>-<y>-<z>.png (or .jpg) there or in its region folders`,
      );
    }
    const warnings: string[] = [];
    const entries: TileEntry[] = [];
    const multi = folders.length > 1 || folders[0]!.dir !== root;
    for (const f of folders) {
      const labelPath = pickLabels(f.dir, f.files, given);
      if (labelPath === null)
        throw new Error(`${where}: ${f.dir} holds tiles but no labels.geojson (or a single .geojson file); pass labels`);
      const labels = await readGeoJson(labelPath, labelsCrs === undefined ? undefined : { crs: labelsCrs });
      warnings.push(...labels.warnings);
      const toMercator = reprojector(labels.crs, 'EPSG:3857');
      const polygons = transformPolygons(labels.polygons, toMercator);
      const region: Region = { name: f.name, dir: f.dir, labelPath, polygons, boxes: boxesOf(polygons) };
      for (const file of tileFiles(f.files)) {
        const tile = parseTileName(file)!;
        if (zooms && !zooms.has(tile.z)) continue;
        entries.push({ region, file, tile, name: multi ? `${f.name}/${stemOf(file)}` : stemOf(file) });
      }
    }
    if (entries.length === 0) throw new Error(`${where}: no tiles in ${root} at zoom ${[...(zooms ?? [])].join(', ')}`);
    const ds = new TilesDataset(root, entries, settings, allTouched);
    ds.warnings.push(...warnings);
    return ds;
  }

  override get length(): number {
    return this.entries.length;
  }

  override metaAt(index: number): SampleMeta {
    const e = this.entries[checkIndex(index, this.entries.length)]!;
    return {
      name: e.name,
      path: join(e.region.dir, e.file),
      labelPath: e.region.labelPath,
      tile: { ...e.tile },
      crs: 'EPSG:3857',
      transform: tileTransform(e.tile, 256),
      group: e.region.name,
    };
  }

  /** The building mask of a tile at `size` pixels (1 = building), with no image decoded. */
  rasterizeTile(index: number, size: number): Uint8Array {
    const e = this.entries[checkIndex(index, this.entries.length)]!;
    const [minx, miny, maxx, maxy] = tileBounds3857(e.tile);
    const { polygons, boxes } = e.region;
    const hits: Polygon[] = [];
    for (let i = 0; i < polygons.length; i++) {
      if (boxes[i * 4]! <= maxx && boxes[i * 4 + 2]! >= minx && boxes[i * 4 + 1]! <= maxy && boxes[i * 4 + 3]! >= miny)
        hits.push(polygons[i]!);
    }
    const pixels = polygonsToPixels(hits, invertTransform(tileTransform(e.tile, size)));
    return rasterize(pixels, { width: size, height: size, allTouched: this.allTouched, burn: 1 });
  }

  /** Sample `index`'s pixels as decoded, before scaling (for statistics and conversion). */
  override readImage(index: number): Promise<DecodedImage> {
    const path = this.metaAt(index).path;
    return decodeImage(path, { path, maxPixels: this.settings.maxPixels });
  }

  override async get(index: number): Promise<Sample> {
    const meta = this.metaAt(index);
    const image = await decodeImage(meta.path, { path: meta.path, maxPixels: this.settings.maxPixels });
    checkChannels(image.channels, this.settings, meta.path);
    if (image.width !== image.height)
      throw new DataFileError(meta.path, `a slippy-map tile must be square, got ${image.width}x${image.height}`);
    const mask = this.rasterizeTile(index, image.width);
    applyValid(mask, image.valid, this.settings.ignoreIndex);
    meta.transform = tileTransform(meta.tile!, image.width);
    return buildSample(image, this.scaling, mask, meta);
  }
}
