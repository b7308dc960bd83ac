// `segkit data preview`: a grid of samples with their masks drawn over them, to look at before training.
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { torch } from '../torch/index.js';
import { readOptions } from '../validate.js';
import type { Dataset } from './dataset.js';
import { type OpenOptions, open } from './open.js';

export interface PreviewOptions {
  /** Samples shown; default 16 (or all, when fewer). */
  count?: number;
  /** Side of each cell in pixels; default 256. */
  cell?: number;
  /** Samples from an evenly spread selection (default) or the first ones. */
  pick?: 'spread' | 'first';
}

// Building (class 1) red, further classes in other hues; ignored pixels grey.
const CLASS_COLOURS: [number, number, number][] = [
  [255, 40, 40],
  [40, 160, 255],
  [255, 200, 0],
  [180, 80, 255],
  [0, 220, 120],
];

/** RGB bytes of one sample: the image (first three bands, or grey) with its mask blended at 45%. */
function drawSample(image: Float32Array, channels: number, mask: Int32Array, plane: number, ignore: number): Uint8Array {
  const rgb = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const band = channels >= 3 ? c : 0;
      let v = image[band * plane + i]!;
      const m = mask[i]!;
      if (m === ignore) v = 0.5 * v + 0.25;
      else if (m > 0) v = 0.55 * v + (0.45 * CLASS_COLOURS[(m - 1) % CLASS_COLOURS.length]![c]!) / 255;
      rgb[i * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return rgb;
}

/** PNG bytes of a grid of samples of `ds` with their masks overlaid. */
export async function previewOpened(ds: Dataset, options: PreviewOptions = {}): Promise<Buffer> {
  const o = readOptions('data.preview', options, ['count', 'cell', 'pick']);
  const count = Math.min(o.int('count', 16, { min: 1, max: 1024 }), ds.length);
  const cell = o.int('cell', 256, { min: 8, max: 4096 });
  const pick = o.choice('pick', ['spread', 'first'] as const, 'spread');
  const indices = Array.from({ length: count }, (_, i) => (pick === 'first' ? i : Math.floor((i * ds.length) / count)));
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  const gap = 2;
  const width = cols * cell + (cols - 1) * gap;
  const height = rows * cell + (rows - 1) * gap;
  const composites: sharp.OverlayOptions[] = [];
  for (let k = 0; k < indices.length; k++) {
    const s = await ds.get(indices[k]!);
    let rgb: Uint8Array;
    let h: number;
    let w: number;
    try {
      const shape = s.image.shape as number[];
      h = shape[1]!;
      w = shape[2]!;
      const image = s.image.toArray() as Float32Array;
      const mask = torch.tidy(() => s.mask.int().toArray()) as Int32Array;
      rgb = drawSample(image, shape[0]!, mask, h * w, ds.ignoreIndex ?? 255);
    } finally {
      s.image.dispose();
      s.mask.dispose();
    }
    const tile = await sharp(Buffer.from(rgb.buffer), { raw: { width: w, height: h, channels: 3 } })
      .resize(cell, cell, { fit: 'contain', kernel: 'nearest', background: { r: 0, g: 0, b: 0 } })
      .png()
      .toBuffer();
    composites.push({ input: tile, left: (k % cols) * (cell + gap), top: Math.floor(k / cols) * (cell + gap) });
  }
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(composites)
    .png()
    .toBuffer();
}

/** Opens `path`, draws the preview and writes it to `out` (PNG). */
export async function previewDataset(
  path: string,
  out: string,
  options: PreviewOptions & { source?: OpenOptions } = {},
): Promise<{ out: string; samples: number }> {
  const { source, ...rest } = options;
  const ds = await open(path, source ?? {});
  try {
    const png = await previewOpened(ds, rest);
    await writeFile(out, png);
    return { out, samples: Math.min(rest.count ?? 16, ds.length) };
  } finally {
    if ('close' in ds) await ds.close();
  }
}
