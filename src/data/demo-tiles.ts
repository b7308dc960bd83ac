/**
 * Loader for the bundled demo dataset (data/demo/catanduanes): real drone tiles with
 * OpenStreetMap building masks. Pure data, no torch: callers turn the arrays into tensors.
 *
 * Layout expected under `dir` (see data/demo/catanduanes/README.md):
 *   split.json            { "train": [names], "val": [names] }
 *   images/<name>.jpg|png RGB(A) tile, 256x256
 *   masks/<name>.png      8-bit single-channel, 255 = building, 0 = background
 */
import { readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkChoice, checkString, show } from '../validate.js';

export type DemoSplit = 'train' | 'val';

export interface DemoTiles {
  names: string[];
  /** N*3*H*W, NCHW, RGB in [0,1]; pixels a PNG marks as no-data (alpha 0) are 0. */
  images: Float32Array;
  /** N*1*H*W, 1 = building, 0 = background. */
  masks: Float32Array;
  shape: { n: number; height: number; width: number };
}

export const DEMO_TILE_SIZE = 256;
const SPLITS: readonly DemoSplit[] = ['train', 'val'];

/**
 * The bundled dataset's folder. Both src/data/demo-tiles.ts (run through tsx) and the
 * compiled dist/data/demo-tiles.js sit two levels below the package root, so one
 * relative URL serves both.
 */
export function defaultDemoDir(): string {
  return fileURLToPath(new URL('../../data/demo/catanduanes', import.meta.url));
}

type ImageKind = 'jpeg' | 'png';

// The source data names JPEG bytes `.png`, so the extension is only a hint.
function sniff(bytes: Uint8Array): ImageKind | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'jpeg';
  }
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/** A file's length and first bytes, to show what it holds instead of an image. */
function byteSummary(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0'));
  return `${bytes.length} bytes starting ${head.join(' ') || '(empty)'}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readSplit(dir: string, split: DemoSplit): Promise<string[]> {
  const path = join(dir, 'split.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(
      `demo tiles: cannot read ${path} (expected a split.json with "train" and "val" ` +
        `name lists; is ${dir} a demo dataset folder?): ${(err as Error).message}`,
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`demo tiles: ${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const names = (parsed as Record<string, unknown> | null)?.[split];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new Error(`demo tiles: ${path}: expected "${split}" to be an array of tile names`);
  }
  for (const name of names as string[]) {
    // Names become path components; refuse anything that could leave the folder.
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
      throw new Error(`demo tiles: ${path}: bad tile name ${show(name)}`);
    }
  }
  if (names.length === 0) throw new Error(`demo tiles: ${path}: "${split}" is empty`);
  return names as string[];
}

async function findImage(dir: string, name: string): Promise<string> {
  const candidates = ['jpg', 'jpeg', 'png'].map((ext) => join(dir, 'images', `${name}.${ext}`));
  for (const path of candidates) if (await exists(path)) return path;
  throw new Error(`demo tiles: image for tile "${name}" not found: expected one of ` + `${candidates.join(', ')}; received no such file`);
}

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(
      `demo tiles: ${what} ${path} not found or unreadable: ` +
        `expected a ${DEMO_TILE_SIZE}x${DEMO_TILE_SIZE} image; received ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function checkSize(path: string, width: number, height: number): void {
  if (width !== DEMO_TILE_SIZE || height !== DEMO_TILE_SIZE) {
    throw new Error(
      `demo tiles: ${path} has the wrong size: expected ${DEMO_TILE_SIZE}x${DEMO_TILE_SIZE}, ` + `received ${width}x${height}`,
    );
  }
}

/** Writes one tile's RGB planes into `out` at `offset` (elements). */
async function decodeImage(path: string, out: Float32Array, offset: number): Promise<void> {
  const bytes = await readBytes(path, 'image');
  const kind = sniff(bytes);
  if (kind === null) {
    throw new Error(
      `demo tiles: ${path} is not an image: expected JPEG (ff d8 ff) or PNG ` + `(89 50 4e 47) bytes, received ${byteSummary(bytes)}`,
    );
  }
  // Forcing sRGB + alpha gives 4 interleaved channels whatever the source (grey, RGB,
  // RGBA), so one code path handles JPEG and the RGBA no-data PNGs alike.
  const { data, info } = await sharp(bytes).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  checkSize(path, info.width, info.height);
  if (info.channels !== 4) {
    throw new Error(`demo tiles: ${path}: expected 4 decoded channels, received ${info.channels}`);
  }
  const plane = info.width * info.height;
  for (let i = 0; i < plane; i++) {
    const p = i * 4;
    // Alpha 0 marks pixels the survey never covered; their RGB is arbitrary.
    const valid = data[p + 3] !== 0;
    out[offset + i] = valid ? data[p] / 255 : 0;
    out[offset + plane + i] = valid ? data[p + 1] / 255 : 0;
    out[offset + 2 * plane + i] = valid ? data[p + 2] / 255 : 0;
  }
}

async function decodeMask(path: string, out: Float32Array, offset: number): Promise<void> {
  const bytes = await readBytes(path, 'mask');
  // A JPEG mask would be lossy: its edges would hold values that are neither 0 nor 255.
  if (sniff(bytes) !== 'png') {
    throw new Error(`demo tiles: ${path}: expected a PNG mask (89 50 4e 47), received ${byteSummary(bytes)}`);
  }
  // Channel count comes from the header: sharp's raw output widens grey to sRGB.
  const meta = await sharp(bytes).metadata();
  if (meta.channels !== 1) {
    throw new Error(`demo tiles: ${path}: expected a single-channel mask, received ${meta.channels} channels`);
  }
  const { data, info } = await sharp(bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  checkSize(path, info.width, info.height);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== 0 && v !== 255) {
      throw new Error(
        `demo tiles: ${path}: expected mask values 0 or 255, received ${v} at pixel ` +
          `(${i % info.width}, ${Math.floor(i / info.width)})`,
      );
    }
    out[offset + i] = v === 255 ? 1 : 0;
  }
}

/**
 * Loads one split of a demo dataset folder (default: {@link defaultDemoDir}) into
 * dense NCHW float arrays, in the order split.json lists the names.
 */
export async function loadDemoTiles(dir: string, split: DemoSplit): Promise<DemoTiles> {
  checkString('loadDemoTiles', 'dir', dir);
  checkChoice('loadDemoTiles', 'split', split, SPLITS);
  const names = await readSplit(dir, split);
  const height = DEMO_TILE_SIZE;
  const width = DEMO_TILE_SIZE;
  const plane = height * width;
  const images = new Float32Array(names.length * 3 * plane);
  const masks = new Float32Array(names.length * plane);
  await Promise.all(
    names.map(async (name, n) => {
      const imagePath = await findImage(dir, name);
      await decodeImage(imagePath, images, n * 3 * plane);
      await decodeMask(join(dir, 'masks', `${name}.png`), masks, n * plane);
    }),
  );
  return { names, images, masks, shape: { n: names.length, height, width } };
}
