// Spatial blocks as split groups: the same ground (a z19 tile and its z20/z21 children,
// neighbouring windows of one raster) always lands on one side of a split.
import { invalidParameterError, outOfRangeError, readOptions, show } from '../validate.js';
import type { SampleMeta } from './dataset.js';
import { type Groups, type SplitSource, readSource } from './split.js';

/** Options of `spatialBlocks`. */
export interface SpatialBlocksOptions {
  /** Tiles: the zoom of the blocks (default the lowest zoom present). */
  blockZoom?: number;
  /** Windows: the side of a block, in `units`. */
  blockSize?: number;
  /** Units of `blockSize`: 'pixels' of the raster, or 'metres' (CRS units) through meta.transform. */
  units?: 'pixels' | 'metres';
}

type Tile = { x: number; y: number; z: number };

// fAIr / OAM tiles are named `<prefix>-<x>-<y>-<z>`.
const TILE_NAME = /(\d+)[-_](\d+)[-_](\d+)$/;

function tileOf(where: string, name: string, meta: SampleMeta | null): Tile {
  const m = meta?.tile ? null : TILE_NAME.exec(name);
  const t = meta?.tile ?? (m ? { x: Number(m[1]), y: Number(m[2]), z: Number(m[3]) } : null);
  if (t === null) throw new TypeError(`${where}: sample '${name}' has no meta.tile and its name does not end in <x>-<y>-<z>`);
  if (
    !(
      Number.isInteger(t.z) &&
      t.z >= 0 &&
      t.z <= 30 &&
      Number.isInteger(t.x) &&
      Number.isInteger(t.y) &&
      t.x >= 0 &&
      t.y >= 0 &&
      t.x < 2 ** t.z &&
      t.y < 2 ** t.z
    )
  )
    throw new RangeError(
      `${where}: sample '${name}' has tile ${show([t.x, t.y, t.z])}, expected x, y from 0 to 2^z - 1 and z from 0 to 30`,
    );
  return t;
}

/**
 * Spatial blocks as groups, so that the same ground lands on one side. Tiles (meta.tile, or
 * names ending in x-y-z): a tile's block is its ancestor at `blockZoom`, (x >> (z - blockZoom),
 * y >> (z - blockZoom)). Windows (meta.window): the block of size `blockSize` holding the
 * window's centre, in the raster's pixels (per file) or in CRS units through meta.transform
 * (the transform of the sample's own pixel grid).
 */
export function spatialBlocks(source: SplitSource, options?: SpatialBlocksOptions): Groups {
  const where = 'spatialBlocks';
  const src = readSource(where, source);
  const o = readOptions(where, options, ['blockZoom', 'blockSize', 'units']);
  const metaOf = (i: number) => (src.meta ? src.meta(i) : null);
  if (o.has('blockSize') || o.has('units')) {
    if (o.has('blockZoom'))
      throw invalidParameterError(
        where,
        'blockZoom',
        'absent with blockSize (blockZoom is for tiles, blockSize for windows)',
        o.get('blockZoom'),
      );
    const size = o.number('blockSize', undefined, { min: 0, exclusive: 'min' });
    const units = o.choice('units', ['pixels', 'metres'] as const, 'pixels');
    const keys = src.names.map((name, i) => windowBlock(where, name, metaOf(i), size, units));
    return { by: 'spatialBlocks', keys, params: { blockSize: size, units } };
  }
  const tiles = src.names.map((name, i) => tileOf(where, name, metaOf(i)));
  const lowest = tiles.reduce((z, t) => Math.min(z, t.z), 30);
  const blockZoom = o.int('blockZoom', lowest, { min: 0, max: 30 });
  const keys = tiles.map((t, i) => {
    if (t.z < blockZoom)
      throw outOfRangeError(
        where,
        'blockZoom',
        `at most ${t.z}, the zoom of sample '${src.names[i]}' (a tile cannot sit in a smaller block)`,
        blockZoom,
      );
    const d = 2 ** (t.z - blockZoom);
    return `${blockZoom}/${Math.floor(t.x / d)}/${Math.floor(t.y / d)}`;
  });
  return { by: 'spatialBlocks', keys, params: { blockZoom } };
}

function windowBlock(where: string, name: string, meta: SampleMeta | null, size: number, units: 'pixels' | 'metres'): string {
  const w = meta?.window;
  if (!w)
    throw new TypeError(
      `${where}: blockSize needs meta.window on every sample (a dataset of georeferenced windows), sample '${name}' has none`,
    );
  if (units === 'pixels') return `${meta.path}@${Math.floor((w.x + w.width / 2) / size)},${Math.floor((w.y + w.height / 2) / size)}`;
  const t = meta.transform;
  if (!t) throw new TypeError(`${where}: units 'metres' needs meta.transform, sample '${name}' has none`);
  if (/^(EPSG:4326|OGC:CRS84)$/i.test(meta.crs ?? ''))
    throw new RangeError(`${where}: units 'metres' needs a projected CRS, sample '${name}' is in ${meta.crs} (degrees)`);
  const x = t[0] + (w.width / 2) * t[1] + (w.height / 2) * t[2];
  const y = t[3] + (w.width / 2) * t[4] + (w.height / 2) * t[5];
  return `${meta.crs ?? ''}@${Math.floor(x / size)},${Math.floor(y / size)}`;
}
