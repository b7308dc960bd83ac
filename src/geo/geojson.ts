// Reading building footprints from GeoJSON: every Polygon and MultiPolygon part of a file as a
// flat list of polygons, each with its feature's properties, in the file's CRS. What a model
// cannot learn from (points, lines, empty geometries) is skipped with a warning; what would burn
// the wrong pixels (a ring too short to be one, lon/lat values that are really metres) is an
// error naming the feature; self-intersecting rings are repaired and reported.

import { readFile } from 'node:fs/promises';
import { checkString, is, readOptions, show } from '../validate.js';
import { geoJsonCrs, normalizeCrs } from './crs.js';
import { polygonProblem, repairPolygon } from './validity.js';

/** A ring of [x, y] positions, closed or not. */
export type Ring = [number, number][];
/** A polygon: its outer ring first, then its holes. */
export type Polygon = Ring[];

/** The polygons of a GeoJSON file, ready to rasterise. */
export interface VectorLabels {
  /** From the file's `crs` member, else options.crs, else 'EPSG:4326'. */
  crs: string;
  /** Every Polygon, MultiPolygon part and GeometryCollection member polygon, in the file's CRS. */
  polygons: Polygon[];
  /** Per polygon, its feature's properties (a MultiPolygon's parts share their feature's). */
  properties: (Record<string, unknown> | null)[];
  /** Per polygon, the index of its source feature. */
  featureIndex: number[];
  /** [minx, miny, maxx, maxy] over all polygons; null when there are none. */
  bbox: [number, number, number, number] | null;
  /** What was skipped or repaired, one line each: `labels.geojson: feature 12 has null geometry, skipped`. */
  warnings: string[];
  /** The path or name given. */
  source: string;
}

/** Options of parseGeoJson and readGeoJson. */
export interface GeoJsonOptions {
  /** The CRS of a file without a `crs` member (default 'EPSG:4326', as RFC 7946 says). */
  crs?: string | number;
}

const GEOMETRY_TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection'];

class Reader {
  readonly polygons: Polygon[] = [];
  readonly properties: (Record<string, unknown> | null)[] = [];
  readonly featureIndex: number[] = [];
  readonly warnings: string[] = [];
  minx = Infinity;
  miny = Infinity;
  maxx = -Infinity;
  maxy = -Infinity;

  constructor(
    readonly source: string,
    readonly lonLat: boolean,
    readonly crs: string,
  ) {}

  fail(feature: number, message: string): never {
    throw new Error(`${this.source}: feature ${feature}: ${message}`);
  }

  feature(f: unknown, index: number): void {
    if (!is.object(f) || f.type !== 'Feature') {
      this.fail(index, `expected a GeoJSON Feature, got ${is.object(f) ? `type ${show(f.type)}` : show(f)}`);
    }
    const properties = is.object(f.properties) ? f.properties : null;
    if (f.geometry === null || f.geometry === undefined) {
      this.warnings.push(`${this.source}: feature ${index} has null geometry, skipped`);
      return;
    }
    const skipped = new Set<string>();
    this.geometry(f.geometry, index, properties, skipped);
    for (const type of skipped)
      this.warnings.push(`${this.source}: feature ${index} is a ${type}, skipped (buildings are areas: only polygons are read)`);
  }

  geometry(g: unknown, index: number, properties: Record<string, unknown> | null, skipped: Set<string>): void {
    if (!is.object(g) || !GEOMETRY_TYPES.includes(g.type as string)) {
      this.fail(
        index,
        `expected a GeoJSON geometry (${GEOMETRY_TYPES.join(', ')}), got ${is.object(g) ? `type ${show(g.type)}` : show(g)}`,
      );
    }
    if (g.type === 'GeometryCollection') {
      if (!Array.isArray(g.geometries)) this.fail(index, `a GeometryCollection needs a 'geometries' array, got ${show(g.geometries)}`);
      for (const member of g.geometries) this.geometry(member, index, properties, skipped);
      return;
    }
    if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') {
      skipped.add(g.type as string);
      return;
    }
    if (!Array.isArray(g.coordinates)) this.fail(index, `a ${g.type} needs a 'coordinates' array, got ${show(g.coordinates)}`);
    const parts = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    for (let p = 0; p < parts.length; p++) {
      const polygon = this.polygon(parts[p], index, g.type === 'Polygon' ? '' : `part ${p}: `);
      if (polygon.length === 0) {
        this.warnings.push(
          `${this.source}: feature ${index} has an empty ${g.type === 'Polygon' ? 'polygon' : `polygon (part ${p})`}, skipped`,
        );
        continue;
      }
      this.add(polygon, index, properties);
    }
  }

  polygon(coords: unknown, index: number, where: string): Polygon {
    if (!Array.isArray(coords)) this.fail(index, `${where}a polygon must be an array of rings, got ${show(coords)}`);
    const polygon: Polygon = [];
    for (let r = 0; r < coords.length; r++) {
      const ring = coords[r];
      if (!Array.isArray(ring)) this.fail(index, `${where}ring ${r} must be an array of positions, got ${show(ring)}`);
      if (ring.length < 4)
        this.fail(index, `${where}ring ${r} has ${ring.length} position${ring.length === 1 ? '' : 's'}, a linear ring needs at least 4`);
      const out: Ring = new Array(ring.length);
      for (let k = 0; k < ring.length; k++) {
        const q = ring[k];
        const x = Array.isArray(q) ? q[0] : undefined;
        const y = Array.isArray(q) ? q[1] : undefined;
        if (!Number.isFinite(x) || !Number.isFinite(y) || typeof x !== 'number' || typeof y !== 'number') {
          this.fail(index, `${where}position ${k} of ring ${r} must be [x, y] with finite numbers, got ${show(q)}`);
        }
        if (this.lonLat && (Math.abs(x) > 180 || Math.abs(y) > 90)) {
          this.fail(
            index,
            `${where}position ${k} of ring ${r} is ${show([x, y])}, outside lon/lat range (|lon| <= 180, |lat| <= 90) although the CRS is ${this.crs}: ` +
              `it looks like projected coordinates; set the file's crs member or pass options.crs (e.g. 'EPSG:32616')`,
          );
        }
        out[k] = [x, y];
      }
      polygon.push(out);
    }
    return polygon;
  }

  add(polygon: Polygon, index: number, properties: Record<string, unknown> | null): void {
    const problem = polygonProblem(polygon);
    let parts = [polygon];
    if (problem !== null) {
      parts = repairPolygon(polygon);
      this.warnings.push(
        `${this.source}: feature ${index}: ${problem}, repaired into ${parts.length} valid polygon${parts.length === 1 ? '' : 's'} (union)`,
      );
    }
    for (const part of parts) {
      for (const ring of part) {
        for (const [x, y] of ring) {
          if (x < this.minx) this.minx = x;
          if (x > this.maxx) this.maxx = x;
          if (y < this.miny) this.miny = y;
          if (y > this.maxy) this.maxy = y;
        }
      }
      this.polygons.push(part);
      this.properties.push(properties);
      this.featureIndex.push(index);
    }
  }
}

/**
 * Reads the polygons of a GeoJSON text (a FeatureCollection, a Feature or a bare geometry).
 * `source` names the text in messages (a path). Throws for text that is not JSON, a root that is
 * not GeoJSON, rings of fewer than 4 positions, non-finite coordinates, and lon/lat coordinates out
 * of range; skips null geometries, points and lines with a warning; repairs self-intersecting or
 * overlapping rings with a warning.
 */
export function parseGeoJson(text: string, source: string, options?: GeoJsonOptions): VectorLabels {
  checkString('parseGeoJson', 'text', text);
  checkString('parseGeoJson', 'source', source);
  const o = readOptions('parseGeoJson', options, ['crs']);
  const optionCrs = o.has('crs')
    ? normalizeCrs(
        o.custom<string | number>('crs', undefined, (v) => typeof v === 'string' || typeof v === 'number', 'an EPSG code or a CRS name'),
      )
    : null;
  let root: unknown;
  try {
    // A UTF-8 byte-order mark (Windows tools write one) is not JSON.
    root = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  if (!is.object(root) || (root.type !== 'FeatureCollection' && root.type !== 'Feature' && !GEOMETRY_TYPES.includes(root.type as string))) {
    const got = is.object(root) ? `an object of type ${show(root.type)}` : Array.isArray(root) ? 'an array' : show(root);
    throw new Error(`${source}: expected a GeoJSON FeatureCollection, Feature or geometry, got ${got}`);
  }
  let fileCrs: string | null;
  try {
    fileCrs = geoJsonCrs(root);
  } catch (e) {
    throw new Error(`${source}: cannot read the crs member: ${(e as Error).message}`);
  }
  const crs = fileCrs ?? optionCrs ?? 'EPSG:4326';
  const reader = new Reader(source, crs === 'EPSG:4326' || crs === 'EPSG:4269', crs);
  if (fileCrs !== null && optionCrs !== null && fileCrs !== optionCrs) {
    reader.warnings.push(`${source}: the file's crs member says ${fileCrs}, which wins over options.crs ${optionCrs}`);
  }
  if (root.type === 'FeatureCollection') {
    if (!Array.isArray(root.features))
      throw new Error(`${source}: a FeatureCollection needs a 'features' array, got ${show(root.features)}`);
    root.features.forEach((f, i) => reader.feature(f, i));
  } else if (root.type === 'Feature') {
    reader.feature(root, 0);
  } else {
    reader.feature({ type: 'Feature', properties: null, geometry: root }, 0);
  }
  const { polygons, properties, featureIndex, warnings } = reader;
  const bbox: VectorLabels['bbox'] = polygons.length > 0 ? [reader.minx, reader.miny, reader.maxx, reader.maxy] : null;
  return { crs, polygons, properties, featureIndex, bbox, warnings, source };
}

/** Reads a GeoJSON file with `parseGeoJson`; messages name the path. */
export async function readGeoJson(path: string, options?: GeoJsonOptions): Promise<VectorLabels> {
  checkString('readGeoJson', 'path', path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`readGeoJson: cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { cause: e });
  }
  return parseGeoJson(text, path, options);
}
