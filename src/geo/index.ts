// The geo layer: CRSs, slippy-map tiles, GeoTIFF windows, GeoJSON polygons, rasterising. Plain
// typed arrays only: nothing here imports torch, data or models.

export { applyTransform, checkTransform, type GeoTransform, invertTransform, windowTransform } from './transform.js';
export {
  checkTile,
  lonLatToTile,
  lonLatToTilePixel,
  MAX_TILE_ZOOM,
  parseTileName,
  type TileId,
  tileBounds3857,
  tileLonLatBounds,
  tileTransform,
  WEB_MERCATOR_HALF_WORLD,
} from './tiles.js';
export { defineCrs, geoJsonCrs, isLonLat, normalizeCrs, reprojector } from './crs.js';
export { type GeoJsonOptions, type Polygon, parseGeoJson, type Ring, readGeoJson, type VectorLabels } from './geojson.js';
export { polygonProblem, repairPolygon } from './validity.js';
export { polygonsToPixels, type RasterizeOptions, rasterize, transformPolygons } from './rasterize.js';
export {
  DEFAULT_MAX_PIXELS,
  type OpenRasterOptions,
  openRaster,
  type Raster,
  type RasterArray,
  type RasterDType,
  type RasterInfo,
  type RasterWindow,
  type ReadWindowOptions,
} from './geotiff.js';
export {
  createGeoTiff,
  type GeoTiffArray,
  type GeoTiffCompression,
  type GeoTiffDType,
  GeoTiffWriter,
  type GeoTiffWriterOptions,
  type WriteWindowOptions,
  writeGeoTiff,
} from './geotiff-writer.js';
export { type MaskPolygon, type MaskToPolygonsOptions, maskToPolygons, orientPolygon, polygonArea } from './vectorize.js';
export { isValidPolygon, makeValid, polygonIoU, simplifyPolygons, validityError } from './simplify.js';
export { type RegularizeOptions, regularizePolygon } from './regularize.js';
export { type PolygonFeature, type PolygonFeatureCollection, type PolygonsToGeoJsonOptions, polygonsToGeoJson } from './geojson-write.js';
export { createPolygonizer, type Polygonizer, type PolygonizerOptions } from './polygonize-rows.js';
export { type PolygonizeRasterOptions, polygonizeRaster, type RasterPolygons } from './polygonize-raster.js';
