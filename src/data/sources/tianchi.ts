// The Tianchi 地表建筑物识别 layout: JPG tiles and a CSV of run-length-encoded masks.
import { SourceDataset } from './source.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode as decodeRle } from '../../rle.js';
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

export interface TianchiOptions extends SourceOptions {
  /** The mask CSV, relative to the root; default: train_mask.csv, else the only .csv there. */
  csv?: string;
  /** The images' folder, relative to the root; default: train/ when it exists, else the root. */
  imagesDir?: string;
  /** 'error' (default) refuses CSV rows whose image is missing; 'skip' leaves them out with a warning. */
  unmatched?: 'error' | 'skip';
}

const KEYS = [...COMMON_KEYS, 'csv', 'imagesDir', 'unmatched'];

/** One CSV row: the image's file name, its RLE ('' for no building) and the 1-based line. */
export interface TianchiRow {
  name: string;
  rle: string;
  line: number;
}

/**
 * Parses a Tianchi mask CSV: tab-separated, no header, `name<TAB>rle` per line; a missing or
 * empty second field is an empty mask. Bad lines are errors naming the file and the line.
 */
export function parseMaskCsv(text: string, path: string): TianchiRow[] {
  const rows: TianchiRow[] = [];
  const names = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    const name = (tab < 0 ? line : line.slice(0, tab)).trim();
    const rle = tab < 0 ? '' : line.slice(tab + 1).trim();
    if (!isImageFile(name)) {
      throw new DataFileError(
        path,
        `line ${i + 1}: expected "<image name>.jpg<TAB><run-length encoding>", got ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    if (/\t/.test(rle)) throw new DataFileError(path, `line ${i + 1}: expected two tab-separated fields, got more`);
    const before = names.get(name);
    if (before !== undefined) throw new DataFileError(path, `line ${i + 1}: ${name} already has a mask on line ${before}`);
    names.set(name, i + 1);
    rows.push({ name, rle: rle === 'nan' || rle === 'NaN' ? '' : rle, line: i + 1 });
  }
  return rows;
}

async function exists(dir: string, name: string): Promise<boolean> {
  try {
    const { dirs } = await listDir(dir, 'data.tianchi');
    return dirs.includes(name);
  } catch {
    return false;
  }
}

/** Tianchi's training layout: `train/*.jpg` (512x512) and `train_mask.csv` beside it. */
export class TianchiDataset extends SourceDataset {
  readonly format = 'tianchi';

  private constructor(
    readonly root: string,
    readonly csvPath: string,
    readonly imagesDir: string,
    private readonly rows: TianchiRow[],
    settings: CommonSettings,
  ) {
    super(settings);
  }

  static async open(root: string, options?: TianchiOptions): Promise<TianchiDataset> {
    const where = 'data.tianchi';
    const o = readOptions(where, options, KEYS);
    const settings = readCommon(o);
    if (settings.classes !== 2) throw new RangeError(`${where}: classes must be 2 (an RLE mask is binary), got ${settings.classes}`);
    const { files } = await listDir(root, where);
    let csv = o.has('csv') ? o.string('csv') : null;
    if (csv === null) {
      const csvs = files.filter((f) => f.toLowerCase().endsWith('.csv'));
      csv = files.includes('train_mask.csv') ? 'train_mask.csv' : csvs.length === 1 ? csvs[0]! : null;
      if (csv === null) {
        throw new Error(
          `${where}: expected train_mask.csv (or one .csv file) in ${root}, found ${csvs.length ? csvs.join(', ') : 'no .csv file'}; pass csv`,
        );
      }
    }
    const csvPath = join(root, csv);
    let text: string;
    try {
      text = await readFile(csvPath, 'utf8');
    } catch (err) {
      throw new DataFileError(csvPath, `cannot read the mask CSV: ${(err as Error).message}`, { cause: err });
    }
    const rows = parseMaskCsv(text, csvPath);
    const imagesDir = join(root, o.has('imagesDir') ? o.string('imagesDir') : (await exists(root, 'train')) ? 'train' : '.');
    const present = new Set((await listDir(imagesDir, where)).files);
    const missing = rows.filter((r) => !present.has(r.name));
    const ds = new TianchiDataset(
      root,
      csvPath,
      imagesDir,
      rows.filter((r) => present.has(r.name)),
      settings,
    );
    if (missing.length > 0) {
      const list = `${missing.length} row(s) of ${csvPath} name images missing from ${imagesDir} (${missing
        .slice(0, 5)
        .map((r) => `${r.name} on line ${r.line}`)
        .join(', ')}${missing.length > 5 ? ', ...' : ''})`;
      if (o.choice('unmatched', ['error', 'skip'] as const, 'error') === 'error')
        throw new Error(`${where}: ${list}; pass unmatched: 'skip' to leave them out`);
      ds.warnings.push(`${where}: skipped ${list}`);
    }
    if (ds.rows.length === 0) throw new Error(`${where}: ${csvPath} lists no images (expected lines "<name>.jpg<TAB><rle>")`);
    return ds;
  }

  override get length(): number {
    return this.rows.length;
  }

  override metaAt(index: number): SampleMeta {
    const r = this.rows[checkIndex(index, this.rows.length)]!;
    return { name: stemOf(r.name), path: join(this.imagesDir, r.name), labelPath: this.csvPath };
  }

  /** Sample `index`'s pixels as decoded, before scaling (for statistics and conversion). */
  override readImage(index: number): Promise<DecodedImage> {
    const path = this.metaAt(index).path;
    return decodeImage(path, { path, maxPixels: this.settings.maxPixels });
  }

  override async get(index: number): Promise<Sample> {
    const r = this.rows[checkIndex(index, this.rows.length)]!;
    const meta = this.metaAt(index);
    const image = await decodeImage(meta.path, { path: meta.path, maxPixels: this.settings.maxPixels });
    checkChannels(image.channels, this.settings, meta.path);
    let mask: Uint8Array;
    try {
      mask = decodeRle(r.rle, [image.height, image.width]);
    } catch (err) {
      throw new DataFileError(this.csvPath, `line ${r.line} (${r.name}, ${image.width}x${image.height}): ${(err as Error).message}`, {
        cause: err,
      });
    }
    applyValid(mask, image.valid, this.settings.ignoreIndex);
    return buildSample(image, this.scaling, mask, meta);
  }

  /** The rows as parsed (name, RLE, line). */
  get records(): readonly TianchiRow[] {
    return this.rows;
  }
}
