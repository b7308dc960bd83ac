// Prediction over image files (a tile, a folder of tiles): each becomes a mask PNG and, if asked,
// a probability PNG in the output folder. Every output is checked before any work starts (an
// existing file is refused unless overwrite is set) and written under a temporary name, then
// renamed, so a run that fails half-way leaves no half-written file.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../data/decode.js';
import { defaultScaling, checkScaling, scaleToFloat, type Scaling } from '../data/normalize.js';
import { torch } from '../torch/index.js';
import { invalidParameterError, readOptions } from '../validate.js';
import { parseTileName, type TileId } from '../geo/tiles.js';
import { maskToPolygons, type MaskToPolygonsOptions } from '../geo/vectorize.js';
import { polygonsToGeoJson } from '../geo/geojson-write.js';
import { denseCrf, type DenseCrfOptions } from './crf.js';
import type { Predictor } from './predictor.js';

export const FILE_FORMATS = ['png', 'probabilities', 'geojson'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp']);

export interface PredictFilesOptions {
  /** The output folder (made when missing). */
  out: string;
  /** 'png': the mask, 0 and 255 (binary) or the class index; 'probabilities': the building probability x 255. Default ['png']. */
  formats?: FileFormat[];
  /** Replace outputs that exist (default false: refuse before any work). */
  overwrite?: boolean;
  /** Refine binary probabilities with the dense CRF (true: DeepLab's parameters) before thresholding. */
  crf?: boolean | DenseCrfOptions;
  /** Polygon options for 'geojson' (default: simplified by 1 px, buildings of 4 px and more). */
  polygons?: Omit<MaskToPolygonsOptions, 'width' | 'height' | 'tile' | 'transform' | 'crs' | 'probabilities'>;
  /** Called after each image with its index, the count and the outputs. */
  onImage?: (index: number, count: number, outputs: string[]) => void;
}

/** The image files of a path: the file itself, or a folder's images (sorted by name). */
export function imageInputs(path: string): string[] {
  const where = 'predictFiles';
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`${where}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (st.isFile()) return [resolve(path)];
  const files = readdirSync(path)
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => resolve(path, f));
  if (files.length === 0) throw new Error(`${where}: ${path} holds no image (${[...IMAGE_EXTENSIONS].join(', ')})`);
  return files;
}

function outputsOf(input: string, out: string, formats: readonly FileFormat[]): string[] {
  const stem = basename(input, extname(input));
  return formats.map((f) => join(out, f === 'png' ? `${stem}.png` : f === 'probabilities' ? `${stem}.prob.png` : `${stem}.geojson`));
}

async function writePng(path: string, pixels: Uint8Array, width: number, height: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`predictFiles: cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The buildings of a mask as GeoJSON: in lon/lat when the file is named as a slippy-map tile (OAM-x-y-z.png, z/x/y.png), else in pixels. */
async function writeGeoJson(
  path: string,
  input: string,
  mask: Uint8Array,
  width: number,
  height: number,
  options: PredictFilesOptions['polygons'],
): Promise<void> {
  const tile: TileId | null = parseTileName(input);
  const binary = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  const polygons = maskToPolygons(binary, { simplify: 1, minArea: 4, ...options, width, height, ...(tile ? { tile } : {}) });
  const collection = tile ? polygonsToGeoJson(polygons, { crs: 'EPSG:3857' }) : polygonsToGeoJson(polygons, { lonLat: false });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, `${JSON.stringify(collection)}\n`);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`predictFiles: cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Predicts every image of `inputs` (paths, or a file or folder) into `out`; returns the files written. */
export async function predictFiles(predictor: Predictor, inputs: string | string[], options: PredictFilesOptions): Promise<string[]> {
  const where = 'predictFiles';
  const o = readOptions(where, options, ['out', 'formats', 'overwrite', 'onImage', 'crf', 'polygons']);
  const out = o.string('out');
  const formats = (o.get('formats') ?? ['png']) as FileFormat[];
  if (!Array.isArray(formats) || formats.length === 0 || !formats.every((f) => (FILE_FORMATS as readonly string[]).includes(f)))
    throw invalidParameterError(where, 'formats', `a non-empty array of ${FILE_FORMATS.map((f) => `'${f}'`).join(', ')}`, formats);
  if ((formats.includes('probabilities') || formats.includes('geojson')) && predictor.classes.length !== 2)
    throw invalidParameterError(
      where,
      'formats',
      `'png' alone for a model of ${predictor.classes.length} classes ('probabilities' and 'geojson' are for building models)`,
      formats,
    );
  const crf = o.get('crf') as boolean | DenseCrfOptions | undefined;
  if (crf && predictor.classes.length !== 2)
    throw invalidParameterError(where, 'crf', 'false for a multiclass model (the CRF refines building probabilities)', crf);
  const polygonOptions = (o.get('polygons') ?? {}) as PredictFilesOptions['polygons'];
  const overwrite = o.bool('overwrite', false);
  const onImage = o.get('onImage') as PredictFilesOptions['onImage'];
  const files = typeof inputs === 'string' ? imageInputs(inputs) : inputs;
  const planned = files.map((f) => outputsOf(f, out, formats));
  const all = planned.flat();
  const twice = all.find((p, i) => all.indexOf(p) !== i);
  if (twice) throw new Error(`${where}: two inputs would write ${twice} (same file name in different formats?)`);
  const existing = all.filter((p) => existsSync(p));
  if (existing.length > 0 && !overwrite)
    throw new Error(
      `${where}: ${existing.length} output(s) exist already (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', ...' : ''}); pass overwrite (--overwrite) to replace them`,
    );
  await mkdir(out, { recursive: true }).catch((e: Error) => {
    throw new Error(`${where}: cannot create the output folder ${out}: ${e.message}`, { cause: e });
  });
  const scaling = predictor.models[0]!.predict.scaling as Scaling | undefined;
  const written: string[] = [];
  for (const [i, file] of files.entries()) {
    const img = await decodeImage(file);
    const s = scaling ? checkScaling(where, scaling, img.channels) : defaultScaling(img.bitDepth);
    const pixels = scaleToFloat(img, s);
    const image = torch.tensor(pixels, { shape: [img.channels, img.height, img.width] });
    let mask: Uint8Array;
    let prob: Uint8Array | null = null;
    try {
      ({ mask, prob } = torch.tidy(() => {
        let p = predictor.probabilities(image);
        if (crf && img.channels === 3) {
          const refined = denseCrf(image, p.squeeze(0), crf === true ? {} : crf);
          p = torch.tensor(refined, { shape: [1, img.height, img.width] });
        }
        const binary = p.shape[0] === 1;
        const m = binary
          ? p.squeeze(0).ge(predictor.threshold).to({ dtype: 'uint8' }).mul(255)
          : p.argmax({ dim: 0 }).to({ dtype: 'uint8' });
        const q = binary && formats.includes('probabilities') ? p.squeeze(0).mul(255).round().to({ dtype: 'uint8' }) : null;
        return { mask: m.contiguous().toArray() as Uint8Array, prob: q ? (q.contiguous().toArray() as Uint8Array) : null };
      }));
    } finally {
      image.dispose();
    }
    const [maskPath, probPath] = [planned[i]![formats.indexOf('png')], planned[i]![formats.indexOf('probabilities')]];
    if (maskPath) await writePng(maskPath, mask, img.width, img.height);
    if (probPath && prob) await writePng(probPath, prob, img.width, img.height);
    const geojsonPath = planned[i]![formats.indexOf('geojson')];
    if (geojsonPath) await writeGeoJson(geojsonPath, file, mask, img.width, img.height, polygonOptions);
    written.push(...planned[i]!);
    onImage?.(i, files.length, planned[i]!);
  }
  return written;
}
