// `segkit data convert`: any source into the folder layout or the Tianchi layout (RLE masks).
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { encode as encodeRle } from '../rle.js';
import { torch } from '../torch/index.js';
import { checkChoice, checkString, readOptions } from '../validate.js';
import type { DecodedImage } from './decode.js';
import { sniffImageFormat } from './image-header.js';
import { type AnyDataset, type OpenOptions, open } from './open.js';
import { FOLDER_SETTINGS_FILE } from './sources/folder.js';

export interface ConvertOptions {
  to: 'folder' | 'tianchi';
  out: string;
  /** Write into a folder that already holds files (never deletes any); default false. */
  overwrite?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertResult {
  samples: number;
  out: string;
  warnings: string[];
}

/** Interleaved pixels of a planar image, for sharp's raw input. */
function interleave(img: DecodedImage): Uint8Array | Uint16Array {
  const { channels, width, height } = img;
  const plane = width * height;
  const out = img.bitDepth === 8 ? new Uint8Array(plane * channels) : new Uint16Array(plane * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) out[i * channels + c] = img.data[c * plane + i]!;
  return out;
}

/** PNG bytes of an 8- or 16-bit image with 1, 3 or 4 bands. */
export async function encodePng(img: DecodedImage, path: string): Promise<Buffer> {
  if (img.bitDepth === 32 || ![1, 3, 4].includes(img.channels)) {
    throw new Error(
      `data convert: ${path}: a PNG holds 1, 3 or 4 bands of 8 or 16 bits, the image has ${img.channels} band(s) of ${img.bitDepth} bits`,
    );
  }
  const pixels = interleave(img);
  const raw = {
    width: img.width,
    height: img.height,
    channels: img.channels as 1 | 3 | 4,
    ...(img.bitDepth === 16 ? { depth: 'ushort' as const } : {}),
  };
  let s = sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw });
  // sharp widens 1-band raw input to sRGB unless told the output is grey.
  if (img.bitDepth === 16) s = s.toColourspace(img.channels === 1 ? 'grey16' : 'rgb16');
  else if (img.channels === 1) s = s.toColourspace('b-w');
  return s.png({ compressionLevel: 6 }).toBuffer();
}

async function checkOut(out: string, overwrite: boolean): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(out);
  } catch {
    return;
  }
  if (entries.length > 0 && !overwrite) {
    throw new Error(
      `data convert: ${out} already holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}; pick an empty folder or pass overwrite (no file is deleted)`,
    );
  }
}

function fileStem(name: string): string {
  return name.replace(/[\\/]/g, '__');
}

/** Writes `ds` (already open) in the `to` layout under `out`. */
export async function convertOpened(ds: AnyDataset, options: ConvertOptions): Promise<ConvertResult> {
  const o = readOptions('data.convert', options, ['to', 'out', 'overwrite', 'onProgress']);
  const to = checkChoice('data.convert', 'to', o.get('to'), ['folder', 'tianchi'] as const);
  const out = checkString('data.convert', 'out', o.get('out'));
  await checkOut(out, o.bool('overwrite', false));
  const ignore = ds.ignoreIndex;
  if (to === 'tianchi' && ds.classes !== 2)
    throw new RangeError(`data convert: the Tianchi layout holds binary masks, the source has ${ds.classes} classes`);
  const imagesDir = join(out, to === 'folder' ? 'images' : 'train');
  await mkdir(imagesDir, { recursive: true });
  if (to === 'folder') await mkdir(join(out, 'masks'), { recursive: true });
  const warnings = [...ds.warnings];
  const csv: string[] = new Array(ds.length);
  const seen = new Set<string>();
  let ignoredInRle = 0;
  for (let i = 0; i < ds.length; i++) {
    const meta = ds.metaAt(i);
    const stem = fileStem(meta.name);
    if (seen.has(stem)) throw new Error(`data convert: two samples map to the file name ${stem}`);
    seen.add(stem);
    const sample = await ds.get(i);
    let mask: Uint8Array;
    let h: number;
    let w: number;
    try {
      [h, w] = sample.mask.shape as [number, number];
      mask = torch.tidy(() => sample.mask.to({ dtype: ignore > 255 ? 'int32' : 'uint8' }).toArray()) as Uint8Array;
    } finally {
      sample.image.dispose();
      sample.mask.dispose();
    }
    // Whole files copy byte for byte (JPEG stays JPEG, unrecompressed); windows of rasters are encoded.
    const whole = meta.window === undefined;
    const bytes = whole ? await readFile(meta.path) : null;
    const kind = bytes ? sniffImageFormat(bytes) : null;
    if (to === 'folder') {
      const imageName = kind === 'jpeg' ? `${stem}.jpg` : `${stem}.png`;
      const png = kind === 'jpeg' || kind === 'png' ? bytes! : await encodePng(await ds.readImage(i), meta.path);
      await writeFile(join(imagesDir, imageName), png);
      const maskPng = await sharp(Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength), { raw: { width: w, height: h, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer();
      await writeFile(join(out, 'masks', `${stem}.png`), maskPng);
    } else {
      const jpg =
        kind === 'jpeg'
          ? bytes!
          : await sharp(await encodePng(await ds.readImage(i), meta.path))
              .jpeg({ quality: 95 })
              .toBuffer();
      await writeFile(join(imagesDir, `${stem}.jpg`), jpg);
      const binary = new Uint8Array(mask.length);
      for (let p = 0; p < mask.length; p++) {
        if (mask[p] === ignore) ignoredInRle++;
        else binary[p] = mask[p] === 1 ? 1 : 0;
      }
      csv[i] = `${stem}.jpg\t${encodeRle(binary, [h, w])}`;
    }
    options.onProgress?.(i + 1, ds.length);
  }
  if (to === 'folder') {
    const settings = { format: 'folder', classes: ds.classes, ignoreIndex: ignore, maskValues: 'indices' };
    await writeFile(join(out, FOLDER_SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
  } else {
    if (ignoredInRle > 0)
      warnings.push(`data convert: ${ignoredInRle} ignored (no-data) pixel(s) written as background: RLE masks cannot mark them`);
    const tmp = join(out, 'train_mask.csv.partial');
    await writeFile(tmp, `${csv.join('\n')}\n`);
    await rename(tmp, join(out, 'train_mask.csv'));
  }
  return { samples: ds.length, out, warnings };
}

/** Opens `path` and converts it. */
export async function convertDataset(path: string, options: ConvertOptions & { source?: OpenOptions }): Promise<ConvertResult> {
  const { source, ...rest } = options;
  const ds = await open(path, source ?? {});
  try {
    return await convertOpened(ds, rest);
  } finally {
    if ('close' in ds) await ds.close();
  }
}
