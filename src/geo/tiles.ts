// Slippy-map (XYZ) tiles: the Web Mercator (EPSG:3857) grid of OpenStreetMap, Google and
// OpenAerialMap. At zoom z the square world [-R*pi, R*pi]^2 (R = 6378137 m, WGS 84's semi-major
// axis) is cut into 2^z x 2^z tiles, x counted from the west, y from the NORTH (TMS counts y
// from the south; these are not TMS tiles).

import { basename } from 'node:path';
import { checkFinite, checkInt, invalidParameterError, is } from '../validate.js';
import type { GeoTransform } from './transform.js';

/** A slippy-map tile: column x, row y (from the north), zoom z. */
export interface TileId {
  x: number;
  y: number;
  z: number;
}

/** Half the width of the Web Mercator world in metres: pi * 6378137. */
export const WEB_MERCATOR_HALF_WORLD = Math.PI * 6378137;

/** The deepest zoom accepted: 2^30 tiles a side keeps x and y exact in 32-bit integers. */
export const MAX_TILE_ZOOM = 30;

const TILE_NAME = /-(\d{1,10})-(\d{1,10})-(\d{1,2})\.[A-Za-z0-9]+$/;

/**
 * The tile named by a file name of the form `<anything>-<x>-<y>-<z>.<ext>`
 * ('OAM-1772464-966380-21.png'); directories in the path are ignored. Null when the name does not
 * have that form, or its numbers are not a tile (z above 30, x or y outside 0..2^z-1), so that a
 * folder scan can skip such files and report them.
 */
export function parseTileName(fileName: string): TileId | null {
  if (typeof fileName !== 'string') throw invalidParameterError('parseTileName', 'fileName', 'a string', fileName);
  const m = TILE_NAME.exec(basename(fileName));
  if (!m) return null;
  const x = Number(m[1]);
  const y = Number(m[2]);
  const z = Number(m[3]);
  if (z > MAX_TILE_ZOOM || x >= 2 ** z || y >= 2 ** z) return null;
  return { x, y, z };
}

/** Checks a TileId: integers with 0 <= z <= 30 and 0 <= x, y < 2^z. */
export function checkTile(where: string, tile: unknown, name = 'tile'): TileId {
  if (!is.object(tile)) throw invalidParameterError(where, name, 'a tile {x, y, z}', tile);
  const z = checkInt(where, `${name}.z`, tile.z, { min: 0, max: MAX_TILE_ZOOM });
  const last = 2 ** z - 1;
  const x = checkInt(where, `${name}.x`, tile.x, { min: 0, max: last });
  const y = checkInt(where, `${name}.y`, tile.y, { min: 0, max: last });
  return { x, y, z };
}

function tileSize(where: string, size: unknown): number {
  return size === undefined ? 256 : checkInt(where, 'size', size, { min: 1 });
}

/** The tile's extent in EPSG:3857 metres. */
export function tileBounds3857(tile: TileId): [minx: number, miny: number, maxx: number, maxy: number] {
  const { x, y, z } = checkTile('tileBounds3857', tile);
  const span = (2 * WEB_MERCATOR_HALF_WORLD) / 2 ** z;
  return [
    -WEB_MERCATOR_HALF_WORLD + x * span,
    WEB_MERCATOR_HALF_WORLD - (y + 1) * span,
    -WEB_MERCATOR_HALF_WORLD + (x + 1) * span,
    WEB_MERCATOR_HALF_WORLD - y * span,
  ];
}

/**
 * The EPSG:3857 transform of the tile as a `size` x `size` raster (default 256), computed the way
 * `gdal_rasterize -te <tileBounds3857> -ts size size` computes it.
 */
export function tileTransform(tile: TileId, size?: number): GeoTransform {
  const n = tileSize('tileTransform', size);
  const [minx, miny, maxx, maxy] = tileBounds3857(tile);
  return [minx, (maxx - minx) / n, 0, maxy, 0, -((maxy - miny) / n)];
}

/**
 * The pixel position of (lon, lat) (degrees, WGS 84) in the tile rendered at `size` px (default
 * 256): x to the east from the tile's west edge, y to the south from its north edge. Positions
 * outside the tile come out below 0 or above `size`.
 */
export function lonLatToTilePixel(lon: number, lat: number, tile: TileId, size?: number): [number, number] {
  checkFinite('lonLatToTilePixel', 'lon', lon);
  checkFinite('lonLatToTilePixel', 'lat', lat, { min: -90, max: 90, exclusive: 'both' });
  const { x, y, z } = checkTile('lonLatToTilePixel', tile);
  const n = tileSize('lonLatToTilePixel', size);
  const scale = 2 ** z;
  const phi = (lat * Math.PI) / 180;
  const px = (((lon + 180) / 360) * scale - x) * n;
  const py = (((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * scale - y) * n;
  return [px, py];
}

/** The tile's extent in degrees (WGS 84). */
export function tileLonLatBounds(tile: TileId): [west: number, south: number, east: number, north: number] {
  const { x, y, z } = checkTile('tileLonLatBounds', tile);
  const scale = 2 ** z;
  const lon = (col: number) => (col / scale) * 360 - 180;
  const lat = (row: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / scale))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)];
}

/** The tile at zoom z that contains (lon, lat); latitudes beyond Web Mercator's +-85.0511 are clamped to the edge rows. */
export function lonLatToTile(lon: number, lat: number, z: number): TileId {
  checkFinite('lonLatToTile', 'lon', lon, { min: -180, max: 180 });
  checkFinite('lonLatToTile', 'lat', lat, { min: -90, max: 90 });
  checkInt('lonLatToTile', 'z', z, { min: 0, max: MAX_TILE_ZOOM });
  const scale = 2 ** z;
  const phi = (Math.max(-89.999999, Math.min(89.999999, lat)) * Math.PI) / 180;
  const fx = ((lon + 180) / 360) * scale;
  const fy = ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * scale;
  const clamp = (v: number) => Math.min(scale - 1, Math.max(0, Math.floor(v)));
  return { x: clamp(fx), y: clamp(fy), z };
}
