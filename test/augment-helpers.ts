// Shared by the test/augment*.test.ts files: real tiles decoded with sharp, batches built from
// them, and the alignment check (a mask computed from the image's own pixels must still match
// the same computation on the transformed image).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { torch, type Tensor } from '../src/index.js';
import type { Batch, SampleMeta } from '../src/data/dataset.js';

const TILES = join(dirname(fileURLToPath(import.meta.url)), 'data', 'oam-catanduanes');

/** The first `n` zoom-21 Catanduanes tiles as float32 [n, 3, 256, 256] in [0, 1] (JS arrays, so tests own no tensor). */
export async function loadTiles(n: number): Promise<{ data: Float32Array; names: string[] }> {
  const names = readdirSync(TILES)
    .filter((f) => f.endsWith('-21.png'))
    .sort()
    .slice(0, n);
  const data = new Float32Array(n * 3 * 256 * 256);
  for (let k = 0; k < names.length; k++) {
    const { data: px, info } = await sharp(readFileSync(join(TILES, names[k]!)))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 256);
    assert.equal(info.height, 256);
    for (let i = 0; i < 256 * 256; i++) for (let c = 0; c < 3; c++) data[(k * 3 + c) * 256 * 256 + i] = px[i * 3 + c]! / 255;
  }
  return { data, names };
}

export function meta(n: number): SampleMeta[] {
  return Array.from({ length: n }, (_, i) => ({ name: `s${i}`, path: `s${i}.png` }));
}

/** A batch whose mask is the image's own first channel thresholded at 0.5 (int64 [N, H, W]). */
export function selfMaskBatch(image: Tensor): Batch {
  const mask = torch.tidy(() => image.select(1, 0).gt(0.5).long());
  return { image, mask, meta: meta(image.shape[0]!) };
}

/** A smooth synthetic image [n, c, h, w]: sums of low-frequency sines, in [0, 1]. */
export function smoothImage(n: number, c: number, h: number, w: number): Tensor {
  return torch.tidy(() => {
    const y = torch.arange(h, { dtype: 'float32' }).view([1, 1, h, 1]);
    const x = torch.arange(w, { dtype: 'float32' }).view([1, 1, 1, w]);
    const k = torch.arange(n * c, { dtype: 'float32' }).view([n, c, 1, 1]);
    const a = y.mul(0.045).add(k.mul(0.7)).sin();
    const b = x.mul(0.037).sub(k.mul(0.3)).add(y.mul(0.011)).cos();
    return a.mul(b).mul(0.5).add(0.5);
  });
}

export interface Alignment {
  /** Pixels compared (mask not ignoreIndex). */
  compared: number;
  /** Pixels where mask != (image[0] > 0.5). */
  mismatched: number;
  /** Mismatched pixels with no other label and no ignored pixel within `radius` pixels in the mask. */
  offBoundary: number;
}

/**
 * Compares a transformed batch's mask with image[:, 0] > 0.5 computed on the transformed
 * image, skipping ignoreIndex pixels. Does not dispose the batch.
 */
export function alignment(batch: Batch, radius = 1, ignoreIndex = 255): Alignment {
  const [n, , h, w] = batch.image.shape as [number, number, number, number];
  const red = take(torch.tidy(() => batch.image.select(1, 0).contiguous()));
  const mask = take(batch.mask.to({ dtype: 'int32' }));
  let compared = 0;
  let mismatched = 0;
  let offBoundary = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (b * h + y) * w + x;
        const m = mask[i]!;
        if (m === ignoreIndex) continue;
        compared++;
        if ((red[i]! > 0.5 ? 1 : 0) === m) continue;
        mismatched++;
        let boundary = false;
        for (let dy = -radius; dy <= radius && !boundary; dy++) {
          for (let dx = -radius; dx <= radius; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            const o = mask[(b * h + yy) * w + xx]!;
            if (o !== m) boundary = true;
          }
        }
        if (!boundary) offBoundary++;
      }
    }
  }
  return { compared, mismatched, offBoundary };
}

/** The values of a tensor made for the purpose, which it then disposes. */
export function take(t: Tensor): ArrayLike<number> {
  const a = t.toArray() as ArrayLike<number>;
  t.dispose();
  return a;
}
