// Affine geotransforms in GDAL's order. A raster's transform maps a pixel position (col, row),
// measured from the top-left corner of pixel (0, 0), to a position in its CRS:
//   x = t[0] + col * t[1] + row * t[2]
//   y = t[3] + col * t[4] + row * t[5]
// The arithmetic follows GDAL's GDALApplyGeoTransform / GDALInvGeoTransform operation for
// operation, so that a polygon vertex lands on the same double GDAL computes and pixels whose
// centres sit exactly on an edge are decided the way gdal_rasterize decides them.

import { invalidParameterError, outOfRangeError } from '../validate.js';

/** A GDAL-order affine transform: [originX, pixelWidth, rowRotation, originY, columnRotation, pixelHeight]. */
export type GeoTransform = readonly [number, number, number, number, number, number];

/** Checks that `t` is an array of 6 finite numbers; returns it. */
export function checkTransform(where: string, name: string, t: unknown): GeoTransform {
  if (Array.isArray(t) && t.length === 6 && t.every((v) => typeof v === 'number' && Number.isFinite(v)))
    return t as unknown as GeoTransform;
  throw invalidParameterError(where, name, 'a geotransform: an array of 6 finite numbers', t);
}

/** The world position of pixel position (col, row): `applyTransform(t, 0.5, 0.5)` is the centre of pixel (0, 0). */
export function applyTransform(t: GeoTransform, col: number, row: number): [number, number] {
  return [t[0] + col * t[1] + row * t[2], t[3] + col * t[4] + row * t[5]];
}

/**
 * The transform that maps world positions back to pixel positions (GDAL's GDALInvGeoTransform).
 * Throws a RangeError when `t` is singular (its determinant is zero relative to its coefficients).
 */
export function invertTransform(t: GeoTransform): GeoTransform {
  checkTransform('invertTransform', 't', t);
  // North-up: invert each axis on its own, as GDAL does, which is exact where the general
  // formula would round differently.
  if (t[2] === 0 && t[4] === 0 && t[1] !== 0 && t[5] !== 0) return [-t[0] / t[1], 1 / t[1], 0, -t[3] / t[5], 0, 1 / t[5]];
  const det = t[1] * t[5] - t[2] * t[4];
  const magnitude = Math.max(Math.abs(t[1]), Math.abs(t[2]), Math.abs(t[4]), Math.abs(t[5]));
  if (!(Math.abs(det) > 1e-10 * magnitude * magnitude)) {
    throw outOfRangeError('invertTransform', 't', 'an invertible transform (a non-zero determinant)', t);
  }
  const inv = 1 / det;
  return [(t[2] * t[3] - t[0] * t[5]) * inv, t[5] * inv, -t[2] * inv, (-t[1] * t[3] + t[0] * t[4]) * inv, -t[4] * inv, t[1] * inv];
}

/** The transform of a window of a raster whose top-left pixel is (x0, y0) of the raster transformed by `t`. */
export function windowTransform(t: GeoTransform, x0: number, y0: number): GeoTransform {
  checkTransform('windowTransform', 't', t);
  const [x, y] = applyTransform(t, x0, y0);
  return [x, t[1], t[2], y, t[4], t[5]];
}
