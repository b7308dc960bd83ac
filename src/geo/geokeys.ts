// GeoTIFF 1.0 georeferencing tags for an EPSG code and a GDAL-order transform: the GeoKey
// directory (GTModelType, GTRasterType = PixelIsArea, and the EPSG code as ProjectedCSType or
// GeographicType), and ModelTiepoint + ModelPixelScale for a north-up transform or
// ModelTransformation for any other affine one, as GDAL's GTiff driver chooses between them.

import { invalidParameterError, show } from '../validate.js';
import { isLonLat, normalizeCrs } from './crs.js';
import { DOUBLE, SHORT, type TiffField } from './tiff-encode.js';
import type { GeoTransform } from './transform.js';

const GT_MODEL_TYPE = 1024;
const GT_RASTER_TYPE = 1025;
const GEOGRAPHIC_TYPE = 2048;
const PROJECTED_CS_TYPE = 3072;
const MODEL_PROJECTED = 1;
const MODEL_GEOGRAPHIC = 2;
const PIXEL_IS_AREA = 1;

/** EPSG codes in the geographic 4000-4999 block that are projected (World Equidistant Cylindrical). */
const PROJECTED_IN_GEOGRAPHIC_BLOCK = new Set([4087, 4088]);
/** Geocentric and 3D CRSs in the same block, which GeoTIFF 1.0 keys cannot name. */
const NOT_2D = new Set([4328, 4329, 4330, 4331, 4332, 4333, 4334, 4335, 4336, 4337, 4338, 4339, 4340, 4341, 4342, 4343, 4978, 4979]);

/**
 * The EPSG code of `crs`: a positive integer, 'EPSG:<code>' (any case) or any name
 * `normalizeCrs` maps to an EPSG code ('urn:ogc:def:crs:EPSG::32616', 'CRS84').
 */
export function epsgCode(where: string, crs: unknown): number {
  const expected = "an EPSG code (32616 or 'EPSG:32616')";
  if (typeof crs === 'number') {
    if (Number.isInteger(crs) && crs > 0 && crs < 32767) return epsgCode(where, `EPSG:${crs}`);
    throw invalidParameterError(where, 'crs', expected, crs, RangeError);
  }
  if (typeof crs !== 'string') throw invalidParameterError(where, 'crs', expected, crs);
  const direct = /^\s*epsg:{1,2}(\d+)\s*$/i.exec(crs);
  let code = direct ? Number(direct[1]) : Number.NaN;
  if (!direct) {
    let name: string | null = null;
    try {
      name = normalizeCrs(crs);
    } catch {
      // Reported below with the writer's own message.
    }
    const m = name ? /^EPSG:(\d+)$/.exec(name) : null;
    if (!m) throw new TypeError(`${where}: crs must be ${expected}, got ${show(crs)}; GeoTIFF keys are written for EPSG codes only`);
    code = Number(m[1]);
  }
  if (!(code > 0 && code < 32767)) throw invalidParameterError(where, 'crs', expected, crs, RangeError);
  if (NOT_2D.has(code)) throw invalidParameterError(where, 'crs', 'a 2D projected or geographic EPSG code', crs, RangeError);
  return code;
}

/** Whether EPSG `code` is a geographic (lon/lat) CRS, from proj4 when segkit knows it, else from EPSG's numbering. */
export function isGeographicCode(code: number): boolean {
  try {
    return isLonLat(`EPSG:${code}`);
  } catch {
    return code >= 4000 && code <= 4999 && !PROJECTED_IN_GEOGRAPHIC_BLOCK.has(code);
  }
}

/** The GeoTIFF tags for `code` (null: none) and `transform` (null: none). */
export function geoFields(code: number | null, transform: GeoTransform | null): TiffField[] {
  const fields: TiffField[] = [];
  if (transform) {
    const [x0, sx, rx, y0, ry, sy] = transform;
    if (rx === 0 && ry === 0 && sy < 0) {
      fields.push({ tag: 33550, type: DOUBLE, values: [sx, -sy, 0] });
      fields.push({ tag: 33922, type: DOUBLE, values: [0, 0, 0, x0, y0, 0] });
    } else {
      fields.push({ tag: 34264, type: DOUBLE, values: [sx, rx, 0, x0, ry, sy, 0, y0, 0, 0, 0, 0, 0, 0, 0, 1] });
    }
  }
  if (code !== null) {
    const geographic = isGeographicCode(code);
    const keys: [number, number][] = [
      [GT_MODEL_TYPE, geographic ? MODEL_GEOGRAPHIC : MODEL_PROJECTED],
      [GT_RASTER_TYPE, PIXEL_IS_AREA],
      [geographic ? GEOGRAPHIC_TYPE : PROJECTED_CS_TYPE, code],
    ];
    // Header: KeyDirectoryVersion 1, KeyRevision 1.0, then each key as (id, location 0 = the
    // value itself, count 1, value).
    const values = [1, 1, 0, keys.length];
    for (const [id, value] of keys) values.push(id, 0, 1, value);
    fields.push({ tag: 34735, type: SHORT, values });
  }
  return fields;
}
