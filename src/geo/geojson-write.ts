// Writing polygons as GeoJSON a GIS opens: RFC 7946 (lon/lat, WGS 84, outer rings
// counterclockwise and holes clockwise), reprojected with proj4; or, when asked, in the raster's
// own CRS with the legacy named-CRS member (`"crs": { "type": "name", "properties": { "name":
// "urn:ogc:def:crs:EPSG::32616" } }`) that SpaceNet's labels and GDAL's GeoJSON driver use.

import { checkBool, invalidParameterError, is, readOptions } from '../validate.js';
import { normalizeCrs, reprojector } from './crs.js';
import type { Polygon } from './geojson.js';
import { applyTransform, checkTransform, type GeoTransform } from './transform.js';
import { type MaskPolygon, orientPolygon, polygonArea } from './vectorize.js';

/** Options of `polygonsToGeoJson`. */
export interface PolygonsToGeoJsonOptions {
  /** The CRS of the coordinates (after `transform`); default 'EPSG:4326'. */
  crs?: string | number;
  /** A GDAL-order geotransform applied first, for polygons in pixel coordinates. */
  transform?: GeoTransform;
  /** true (default): RFC 7946 lon/lat, reprojected from `crs`; false: coordinates stay in `crs`, named by a `crs` member. */
  lonLat?: boolean;
  /** Extra properties per feature: an array (one object per polygon) or a function of the index. */
  properties?: readonly (Record<string, unknown> | null | undefined)[] | ((index: number) => Record<string, unknown> | null | undefined);
}

/** A GeoJSON Polygon or MultiPolygon feature. */
export interface PolygonFeature {
  type: 'Feature';
  properties: Record<string, unknown>;
  geometry: { type: 'Polygon'; coordinates: number[][][] } | { type: 'MultiPolygon'; coordinates: number[][][][] };
}

/** A GeoJSON FeatureCollection of polygons, with the named-CRS member when not in lon/lat. */
export interface PolygonFeatureCollection {
  type: 'FeatureCollection';
  crs?: { type: 'name'; properties: { name: string } };
  features: PolygonFeature[];
}

const KEYS = ['crs', 'transform', 'lonLat', 'properties'];

function isMaskPolygon(v: unknown): v is MaskPolygon {
  return is.object(v) && Array.isArray(v.parts);
}

/** The named-CRS URN of a CRS ('EPSG:32616' -> 'urn:ogc:def:crs:EPSG::32616'). */
function crsUrn(crs: string): string {
  const m = /^([A-Z][A-Z0-9_]*):(.+)$/.exec(crs);
  if (!m) throw invalidParameterError('polygonsToGeoJson', 'crs', "a CRS with a code ('EPSG:32616') to name in a crs member", crs);
  return `urn:ogc:def:crs:${m[1]}::${m[2]}`;
}

function closeRing(ring: [number, number][]): [number, number][] {
  const first = ring[0];
  const last = ring[ring.length - 1];
  return first && last && (first[0] !== last[0] || first[1] !== last[1]) ? [...ring, [first[0], first[1]]] : ring;
}

/**
 * A FeatureCollection with one feature per entry: a `MaskPolygon` (its parts: a Polygon, or a
 * MultiPolygon under 8-connectivity; properties `area`, `pixels` and `score` when present) or a
 * bare polygon. `area` is recomputed from the geometry in `crs`: square metres (geodesic for
 * lon/lat and Web Mercator). Rings are closed and wound as RFC 7946 says.
 */
export function polygonsToGeoJson(
  polygons: readonly (MaskPolygon | Polygon)[],
  options?: PolygonsToGeoJsonOptions,
): PolygonFeatureCollection {
  const where = 'polygonsToGeoJson';
  if (!Array.isArray(polygons))
    throw invalidParameterError(where, 'polygons', 'an array of polygons (or maskToPolygons results)', polygons);
  const o = readOptions(where, options, KEYS);
  const crs = normalizeCrs(
    o.custom<string | number>('crs', 'EPSG:4326', (v) => is.string(v) || is.number(v), 'an EPSG code or a CRS name'),
  );
  const transform = o.has('transform') ? checkTransform(where, 'transform', o.get('transform')) : null;
  const lonLat = o.has('lonLat') ? checkBool(where, 'lonLat', o.get('lonLat')) : true;
  const extra = o.get('properties');
  if (extra !== undefined && !Array.isArray(extra) && typeof extra !== 'function')
    throw invalidParameterError(where, 'properties', 'an array of objects or a function (index) => object', extra);
  const outCrs = lonLat ? 'EPSG:4326' : crs;
  const project = outCrs === crs ? null : reprojector(crs, outCrs);
  const collection: PolygonFeatureCollection = { type: 'FeatureCollection', features: [] };
  if (outCrs !== 'EPSG:4326') collection.crs = { type: 'name', properties: { name: crsUrn(outCrs) } };
  polygons.forEach((item, i) => {
    const parts: Polygon[] = isMaskPolygon(item) ? item.parts : [item as Polygon];
    if (!Array.isArray(parts) || !parts.every((p) => Array.isArray(p) && p.every((r) => Array.isArray(r) && Array.isArray(r[0]))))
      throw invalidParameterError(where, `polygons[${i}]`, 'a polygon (an array of rings of [x, y]) or a maskToPolygons result', item);
    const inCrs = transform ? parts.map((p) => p.map((ring) => ring.map((q) => applyTransform(transform, q[0], q[1])))) : parts;
    const properties: Record<string, unknown> = { area: polygonArea(inCrs, crs) };
    if (isMaskPolygon(item)) {
      properties.pixels = item.pixels;
      if (item.score !== undefined) properties.score = item.score;
    }
    const more = typeof extra === 'function' ? extra(i) : Array.isArray(extra) ? extra[i] : undefined;
    if (more !== undefined && more !== null) {
      if (!is.object(more)) throw invalidParameterError(where, `properties[${i}]`, 'an object', more);
      Object.assign(properties, more);
    }
    const coordinates = inCrs.map((p) => {
      const projected = project ? p.map((ring) => ring.map((q) => project(q[0], q[1]))) : p;
      return orientPolygon(projected.map(closeRing)) as number[][][];
    });
    collection.features.push({
      type: 'Feature',
      properties,
      geometry: coordinates.length === 1 ? { type: 'Polygon', coordinates: coordinates[0]! } : { type: 'MultiPolygon', coordinates },
    });
  });
  return collection;
}
