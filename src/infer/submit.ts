// A Tianchi-style submission: for each image the sample file names, in its order, a line
// "<name>\t<RLE of the predicted mask>" (runs numbered down each column, 1-based starts; an
// empty field for no building). Written under a temporary name and renamed when whole.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '../data/decode.js';
import { checkScaling, defaultScaling, scaleToFloat, type Scaling } from '../data/normalize.js';
import { encode } from '../rle.js';
import { torch } from '../torch/index.js';
import { readOptions } from '../validate.js';
import type { Predictor } from './predictor.js';

export interface SubmissionOptions {
  /** The folder holding the images the sample file names. */
  images: string;
  /** The sample submission (test_a_samplesubmit.csv): one image name per line, first tab-separated field. */
  sample: string;
  /** Where to write the submission. */
  out: string;
  overwrite?: boolean;
  onImage?: (index: number, count: number, name: string) => void;
}

/** The image names of a sample submission, in its order. */
export function readSampleNames(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`writeSubmission: cannot read the sample ${path}: ${(e as Error).message}`, { cause: e });
  }
  const names = text
    .split(/\r?\n/)
    .map((l) => l.split('\t')[0]!.trim())
    .filter((n) => n !== '');
  if (names.length === 0)
    throw new Error(`writeSubmission: ${path} names no image (expected one name per line, tab-separated from the mask column)`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`writeSubmission: ${path} names ${n} twice`);
    seen.add(n);
  }
  return names;
}

/** Predicts every image of the sample and writes the submission; returns the number of lines. */
export async function writeSubmission(predictor: Predictor, options: SubmissionOptions): Promise<number> {
  const where = 'writeSubmission';
  const o = readOptions(where, options, ['images', 'sample', 'out', 'overwrite', 'onImage']);
  const images = o.string('images');
  const out = o.string('out');
  const overwrite = o.bool('overwrite', false);
  const onImage = o.get('onImage') as SubmissionOptions['onImage'];
  const names = readSampleNames(o.string('sample'));
  // Everything the run needs is checked before the first (slow) prediction.
  const missing = names.filter((n) => !existsSync(join(images, n)));
  if (missing.length > 0)
    throw new Error(
      `${where}: ${missing.length} image(s) of the sample are not in ${images} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})`,
    );
  if (existsSync(out) && !overwrite) throw new Error(`${where}: ${out} exists; pass overwrite (--overwrite) to replace it`);
  if (predictor.classes.length !== 2)
    throw new Error(`${where}: a submission is a building mask; this model has ${predictor.classes.length} classes`);
  const scaling = predictor.models[0]!.predict.scaling as Scaling | undefined;
  const lines: string[] = [];
  for (const [i, name] of names.entries()) {
    const img = await decodeImage(join(images, name));
    const pixels = scaleToFloat(img, scaling ? checkScaling(where, scaling, img.channels) : defaultScaling(img.bitDepth));
    const image = torch.tensor(pixels, { shape: [img.channels, img.height, img.width] });
    try {
      const mask = torch.tidy(() => predictor.mask(image).contiguous().toArray() as Uint8Array);
      lines.push(`${name}\t${encode(mask, [img.height, img.width])}`);
    } finally {
      image.dispose();
    }
    onImage?.(i, names.length, name);
  }
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`${where}: cannot write ${out}: ${(e as Error).message}`, { cause: e });
  }
  return lines.length;
}
