// data.open: a path in, the right source out, recognised by its layout.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTileName } from '../geo/tiles.js';
import { checkChoice, checkString, is, show } from '../validate.js';
import { isImageFile, listDir } from './sources/common.js';
import { FolderDataset, type FolderOptions } from './sources/folder.js';
import { GeoTiffDataset, type GeoTiffOptions } from './sources/geotiff.js';
import { TianchiDataset, type TianchiOptions } from './sources/tianchi.js';
import { TilesDataset, type TilesOptions } from './sources/tiles.js';

export const FORMATS = ['folder', 'tianchi', 'tiles', 'geotiff'] as const;
export type DataFormat = (typeof FORMATS)[number];

export type OpenOptions =
  | ({ format?: 'folder' } & FolderOptions)
  | ({ format?: 'tianchi' } & TianchiOptions)
  | ({ format?: 'tiles' } & TilesOptions)
  | ({ format?: 'geotiff' } & GeoTiffOptions);

export type AnyDataset = FolderDataset | TianchiDataset | TilesDataset | GeoTiffDataset;

const isTif = (f: string) => /\.tiff?$/i.test(f);

/**
 * Which layout `path` holds: a .tif file or a folder of them with a vector file is 'geotiff';
 * images/ + masks/ is 'folder'; a CSV beside JPGs (or a train/ folder) is 'tianchi'; tiles named
 * <prefix>-<x>-<y>-<z> (there or one level down) are 'tiles'.
 */
export async function detectFormat(path: string): Promise<DataFormat> {
  const where = 'data.open';
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new Error(`${where}: cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isDir) {
    if (isTif(path)) return 'geotiff';
    throw new TypeError(`${where}: path must be a dataset folder or a GeoTIFF (.tif), got the file ${path}`);
  }
  const { files, dirs } = await listDir(path, where);
  if (dirs.includes('images') && dirs.includes('masks')) return 'folder';
  if (files.some((f) => f.toLowerCase().endsWith('.csv'))) {
    const jpgs = files.some((f) => /\.jpe?g$/i.test(f));
    if (jpgs || dirs.includes('train')) return 'tianchi';
  }
  if (files.some((f) => isImageFile(f) && parseTileName(f) !== null)) return 'tiles';
  if (files.some(isTif)) return 'geotiff';
  for (const d of dirs) {
    const sub = await listDir(join(path, d), where);
    if (sub.files.some((f) => isImageFile(f) && parseTileName(f) !== null)) return 'tiles';
  }
  throw new Error(
    `${where}: cannot tell the layout of ${path}: expected images/ and masks/ (folder), a mask CSV with JPGs (tianchi), ` +
      `tiles named <prefix>-<x>-<y>-<z>.png with a GeoJSON (tiles) or .tif rasters (geotiff); found ${files.length} file(s)` +
      `${dirs.length ? ` and the folders ${dirs.slice(0, 8).join(', ')}` : ''}. Pass format to choose`,
  );
}

/** Opens a dataset, recognising its layout unless `options.format` names it. */
export async function open(path: string, options: OpenOptions = {}): Promise<AnyDataset> {
  checkString('data.open', 'path', path);
  if (!is.object(options)) throw new TypeError(`data.open: options must be an object, got ${show(options)}`);
  const { format: given, ...rest } = options;
  const format = given === undefined ? await detectFormat(path) : checkChoice('data.open', 'format', given, FORMATS);
  switch (format) {
    case 'folder':
      return FolderDataset.open(path, rest as FolderOptions);
    case 'tianchi':
      return TianchiDataset.open(path, rest as TianchiOptions);
    case 'tiles':
      return TilesDataset.open(path, rest as TilesOptions);
    case 'geotiff':
      return GeoTiffDataset.open(path, rest as GeoTiffOptions);
  }
}
