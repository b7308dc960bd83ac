// Polygons of a mask GeoTIFF of any size, read strip by strip into a row polygonizer, so memory
// follows a strip and the objects crossing it, not the raster: a 10,000 x 10,000 prediction is
// 100 MB as bytes, four times that as labels.

import { invalidParameterError, is, readOptions } from '../validate.js';
import { openRaster } from './geotiff.js';
import { POLYGON_KEYS } from './polygonize-steps.js';
import { polygonizer } from './polygonize-rows.js';
import type { GeoTransform } from './transform.js';
import type { MaskPolygon, MaskToPolygonsOptions } from './vectorize.js';

/** Options of `polygonizeRaster`: maskToPolygons' polygon options, and how to read the raster. */
export interface PolygonizeRasterOptions
  extends Pick<MaskToPolygonsOptions, 'connectivity' | 'simplify' | 'minArea' | 'units' | 'regularize'> {
  /** The band holding the mask, 0-based (default 0). */
  band?: number;
  /** Rows read at a time (default: whole strips or tiles of the file, at least 256 rows). */
  rowsPerStrip?: number;
}

/** The polygons of a mask raster and what places them on the map. */
export interface RasterPolygons {
  /** In pixel coordinates, as maskToPolygons gives them for the whole mask; `area` as it gives with the raster's transform and CRS (square metres for a projected or lon/lat CRS). */
  polygons: MaskPolygon[];
  width: number;
  height: number;
  /** The raster's geotransform (hand it with `crs` to polygonsToGeoJson), or null. */
  transform: GeoTransform | null;
  crs: string | null;
}

const KEYS = ['connectivity', 'simplify', 'minArea', 'units', 'regularize', 'band', 'rowsPerStrip'];
const MIN_STRIP = 256;

/**
 * The objects of a mask GeoTIFF as polygons: pixels that are nonzero, not NaN and not the nodata
 * value are objects. Reads the raster strip by strip (never whole); `units: 'metres'` measures
 * through the raster's georeference.
 */
export async function polygonizeRaster(path: string, options?: PolygonizeRasterOptions): Promise<RasterPolygons> {
  const where = 'polygonizeRaster';
  if (!is.string(path)) throw invalidParameterError(where, 'path', 'a path to a GeoTIFF', path);
  const o = readOptions(where, options, KEYS);
  const raster = await openRaster(path, { maxPixels: Number.MAX_SAFE_INTEGER });
  try {
    const { width, height, bands, nodata, transform, crs, tileHeight } = raster.info;
    const band = o.int('band', 0, { min: 0, max: bands - 1 });
    // Whole blocks of the file, so that no block is decoded twice.
    const strip = o.int('rowsPerStrip', Math.ceil(MIN_STRIP / tileHeight) * tileHeight, { min: 1 });
    const polygonOptions: Record<string, unknown> = { width, height };
    for (const k of POLYGON_KEYS) if (o.has(k)) polygonOptions[k] = o.get(k);
    const sink = polygonizer(where, polygonOptions, ['width', 'height', ...POLYGON_KEYS], { transform, crs });
    for (let y = 0; y < height; y += strip) {
      const rows = Math.min(strip, height - y);
      const data = await raster.readWindow({ x: 0, y, width, height: rows }, { bands: [band] });
      const mask = new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        mask[i] = v !== 0 && !Number.isNaN(v) && v !== nodata ? 1 : 0;
      }
      await sink.writeWindow({ x: 0, y, width, height: rows }, mask);
    }
    return { polygons: sink.finish(), width, height, transform, crs };
  } finally {
    await raster.close();
  }
}
