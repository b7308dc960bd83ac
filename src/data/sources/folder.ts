// The plainest layout: images/ and masks/ side by side, matched by file stem.
import { SourceDataset } from './source.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkOptions, is, readOptions, show } from '../../validate.js';
import type { Sample, SampleMeta } from '../dataset.js';
import { type DecodedImage, decodeImage, decodeMask } from '../decode.js';
import type { Scaling } from '../normalize.js';
import {
  COMMON_KEYS,
  type CommonSettings,
  DataFileError,
  type SourceOptions,
  applyValid,
  binaryToIndices,
  buildMultilabelSample,
  buildSample,
  checkIndex,
  checkChannels,
  checkMaskValues,
  isImageFile,
  listDir,
  readCommon,
  resolveScaling,
  spread,
  stemOf,
} from './common.js';

export interface FolderOptions extends SourceOptions {
  /** Sub-folder of the images; default 'images'. */
  imagesDir?: string;
  /** Sub-folder of the masks; default 'masks'. Masks are single-band PNG or TIFF. */
  masksDir?: string;
  /** 'error' (default) refuses images without a mask and masks without an image; 'skip' leaves them out with a warning. */
  unmatched?: 'error' | 'skip';
  /**
   * 'auto' (default) reads a mask holding only 0 and 255 as 0/1 when there are two classes (a
   * binary mask saved for the eye); 'indices' takes every value as it is, so 255 is ignore;
   * 'multilabel' reads one band per class (`classes` of them, each 0/1 or 0/255) into a float32
   * [K, H, W] mask, pixels without data set to `ignoreIndex` in every band.
   */
  maskValues?: 'auto' | 'indices' | 'multilabel';
}

const KEYS = [...COMMON_KEYS, 'imagesDir', 'masksDir', 'unmatched', 'maskValues'];

/** The file in a folder dataset's root that records how to read it (written by `data convert`). */
export const FOLDER_SETTINGS_FILE = 'segkit.json';

async function folderDefaults(root: string): Promise<Record<string, unknown>> {
  const path = join(root, FOLDER_SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DataFileError(
      path,
      `expected JSON with the dataset's options (classes, ignoreIndex, maskValues), got ${(err as Error).message}`,
    );
  }
  if (!is.object(parsed)) throw new DataFileError(path, `expected a JSON object of options, got ${show(parsed)}`);
  const { format: _format, ...rest } = parsed as Record<string, unknown>;
  checkOptions(`data.folder: ${path}`, rest, ['classes', 'ignoreIndex', 'maskValues']);
  return rest;
}

interface Entry {
  name: string;
  image: string;
  mask: string;
}

/** `<root>/images/<stem>.<ext>` with `<root>/masks/<stem>.png`: class indices, or 0/255 for binary masks. */
export class FolderDataset extends SourceDataset {
  readonly format = 'folder';

  private constructor(
    readonly root: string,
    private readonly entries: Entry[],
    settings: CommonSettings,
    readonly maskValues: 'auto' | 'indices' | 'multilabel',
  ) {
    super(settings);
  }

  /** Lists the folder (nothing is decoded unless deep imagery needs band statistics). */
  static async open(root: string, options?: FolderOptions): Promise<FolderDataset> {
    const where = 'data.folder';
    const o = readOptions(where, { ...(await folderDefaults(root)), ...options }, KEYS);
    const settings = readCommon(o);
    const maskValues = o.choice('maskValues', ['auto', 'indices', 'multilabel'] as const, 'auto');
    const imagesDir = join(root, o.string('imagesDir', 'images'));
    const masksDir = join(root, o.string('masksDir', 'masks'));
    const unmatched = o.choice('unmatched', ['error', 'skip'] as const, 'error');
    const images = (await listDir(imagesDir, where)).files.filter(isImageFile);
    const masks = (await listDir(masksDir, where)).files.filter(isImageFile);
    const maskByStem = new Map<string, string>();
    const duplicates: string[] = [];
    for (const m of masks) {
      const s = stemOf(m);
      if (maskByStem.has(s)) duplicates.push(`${maskByStem.get(s)} and ${m}`);
      maskByStem.set(s, m);
    }
    if (duplicates.length > 0)
      throw new Error(`${where}: ${masksDir} holds several masks for one stem: ${duplicates.slice(0, 5).join('; ')}`);
    const entries: Entry[] = [];
    const lonelyImages: string[] = [];
    const seen = new Set<string>();
    for (const img of images) {
      const s = stemOf(img);
      if (seen.has(s)) throw new Error(`${where}: ${imagesDir} holds several images with the stem ${s}`);
      seen.add(s);
      const m = maskByStem.get(s);
      if (m === undefined) lonelyImages.push(img);
      else entries.push({ name: s, image: join(imagesDir, img), mask: join(masksDir, m) });
    }
    const lonelyMasks = masks.filter((m) => !seen.has(stemOf(m)));
    const ds = new FolderDataset(root, entries, settings, maskValues);
    const report = (what: string, list: string[]) =>
      `${list.length} ${what} (${list.slice(0, 5).join(', ')}${list.length > 5 ? ', ...' : ''})`;
    const problems: string[] = [];
    if (lonelyImages.length) problems.push(report(`image(s) in ${imagesDir} without a mask in ${masksDir}`, lonelyImages));
    if (lonelyMasks.length) problems.push(report(`mask(s) in ${masksDir} without an image in ${imagesDir}`, lonelyMasks));
    if (problems.length > 0) {
      if (unmatched === 'error') throw new Error(`${where}: ${problems.join('; ')}; pass unmatched: 'skip' to leave them out`);
      ds.warnings.push(...problems.map((p) => `${where}: skipped ${p}`));
    }
    if (entries.length === 0) {
      throw new Error(
        `${where}: no image/mask pairs in ${root}: expected files in ${imagesDir} and ${masksDir} with the same stems, found ${images.length} image(s) and ${masks.length} mask(s)`,
      );
    }
    ds.scaling = await ds.resolveScaling();
    return ds;
  }

  private async resolveScaling(): Promise<Scaling> {
    const { scale, maxPixels } = this.settings;
    if (scale !== 'auto' && scale !== 'stats') return scale;
    const first = await decodeImage(this.entries[0]!.image, { path: this.entries[0]!.image, maxPixels });
    const entries = this.entries;
    return resolveScaling(scale, first.bitDepth, async function* () {
      for (const i of spread(entries.length, 64)) yield await decodeImage(entries[i]!.image, { maxPixels });
    });
  }

  override get length(): number {
    return this.entries.length;
  }

  override metaAt(index: number): SampleMeta {
    const e = this.entries[checkIndex(index, this.entries.length)]!;
    return { name: e.name, path: e.image, labelPath: e.mask };
  }

  /** Sample `index`'s pixels as decoded, before scaling (for statistics and conversion). */
  override readImage(index: number): Promise<DecodedImage> {
    const path = this.metaAt(index).path;
    return decodeImage(path, { path, maxPixels: this.settings.maxPixels });
  }

  override async get(index: number): Promise<Sample> {
    const e = this.entries[checkIndex(index, this.entries.length)]!;
    const { maxPixels, classes, ignoreIndex } = this.settings;
    const image = await decodeImage(e.image, { path: e.image, maxPixels });
    checkChannels(image.channels, this.settings, e.image);
    if (this.maskValues === 'multilabel') return this.multilabel(index, e, image);
    const mask = await decodeMask(e.mask, { path: e.mask, maxPixels });
    if (mask.width !== image.width || mask.height !== image.height) {
      throw new DataFileError(
        e.mask,
        `the mask must be the size of its image ${e.image} (${image.width}x${image.height}), got ${mask.width}x${mask.height}`,
      );
    }
    const m = mask.data;
    if (this.maskValues === 'auto') binaryToIndices(m, classes);
    checkMaskValues(m, mask.width, classes, ignoreIndex, e.mask);
    applyValid(m, image.valid, ignoreIndex);
    return buildSample(image, this.scaling, m, this.metaAt(index));
  }

  private async multilabel(index: number, e: Entry, image: DecodedImage): Promise<Sample> {
    const { maxPixels, classes, ignoreIndex } = this.settings;
    const labels = await decodeImage(e.mask, { path: e.mask, maxPixels, alphaAsNodata: false });
    if (labels.format === 'jpeg') throw new DataFileError(e.mask, 'expected a lossless multilabel mask (PNG or TIFF), got a JPEG');
    if (labels.width !== image.width || labels.height !== image.height) {
      throw new DataFileError(
        e.mask,
        `the mask must be the size of its image ${e.image} (${image.width}x${image.height}), got ${labels.width}x${labels.height}`,
      );
    }
    if (labels.channels !== classes) {
      throw new DataFileError(e.mask, `a multilabel mask holds one band per class (classes: ${classes}), got ${labels.channels} band(s)`);
    }
    const n = labels.width * labels.height;
    const out = new Float32Array(labels.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = labels.data[i]!;
      if (v === 1 || v === 255) out[i] = 1;
      else if (v !== 0) {
        const p = i % n;
        throw new DataFileError(
          e.mask,
          `multilabel mask values must be 0 or 1 (or 0 and 255) in every band, got ${v} in band ${Math.floor(i / n) + 1} at (x ${p % labels.width}, y ${Math.floor(p / labels.width)})`,
        );
      }
    }
    if (image.valid) for (let p = 0; p < n; p++) if (image.valid[p] === 0) for (let c = 0; c < classes; c++) out[c * n + p] = ignoreIndex;
    return buildMultilabelSample(image, this.scaling, out, classes, this.metaAt(index));
  }
}
