// Separable whole-pixel remapping: output pixel (y, x) of sample n reads input pixel
// (rows[n][y], cols[n][x]). Nearest-neighbour resizing, per-sample pads and border modes are all
// such maps; the indices are worked out in JS (a few hundred numbers) and the pixels move in two
// batched ops: an index_select of rows and a gather of columns.
import { torch, type Tensor } from '../../torch/index.js';

/**
 * `t` [N, H, W] or [N, K, H, W] remapped to [N, (K,) Ho, Wo]: rows holds N * Ho source rows,
 * cols N * Wo source columns, all in range (resolve borders first).
 */
export function remap(t: Tensor, rows: Int32Array, cols: Int32Array, outHeight: number, outWidth: number): Tensor {
  const s = t.shape;
  const n = s[0]!;
  const k = s.length === 4 ? s[1]! : 1;
  const h = s[s.length - 2]!;
  const w = s[s.length - 1]!;
  const global = new Int32Array(n * k * outHeight);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < k; c++) {
      const base = (b * k + c) * h;
      const at = (b * k + c) * outHeight;
      for (let y = 0; y < outHeight; y++) global[at + y] = base + rows[b * outHeight + y]!;
    }
  }
  return torch.tidy(() => {
    const picked = t
      .reshape([n * k * h, w])
      .indexSelect(0, torch.tensor(global).long())
      .view([n, k * outHeight, w]);
    const index = torch
      .tensor(cols, { shape: [n, 1, outWidth] })
      .long()
      .expand([n, k * outHeight, outWidth]);
    const out = picked.gather(2, index);
    return out.view(s.length === 4 ? [n, k, outHeight, outWidth] : [n, outHeight, outWidth]);
  });
}

/**
 * Source indices of nearest-neighbour resizing of [start, start + length) to `size` pixels:
 * output pixel i reads floor((i + 0.5) * length / size), the pixel whose area holds the output
 * pixel's centre (PyTorch's 'nearest-exact', PIL's NEAREST), not OpenCV's INTER_NEAREST
 * floor(i * length / size), which shifts the mask by up to half a pixel against a bilinear image.
 */
export function nearestIndices(start: number, length: number, size: number, out: Int32Array, at: number): void {
  const scale = length / size;
  for (let i = 0; i < size; i++) out[at + i] = start + Math.min(Math.floor((i + 0.5) * scale), length - 1);
}

/** How a pad or a warp reads outside the image: OpenCV's border modes by their names. */
export type BorderMode = 'constant' | 'replicate' | 'reflect' | 'reflect101' | 'wrap';

/**
 * The source index of position i of an axis of `size` pixels under `mode`, or -1 for 'constant'
 * outside (OpenCV's borderInterpolate): 'replicate' aaa|abc|ccc, 'reflect' cba|abc|cba,
 * 'reflect101' dcb|abcd|cba, 'wrap' abc|abc|abc.
 */
export function borderIndex(i: number, size: number, mode: BorderMode): number {
  if (i >= 0 && i < size) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'replicate':
      return i < 0 ? 0 : size - 1;
    case 'wrap':
      return ((i % size) + size) % size;
    case 'reflect':
    case 'reflect101': {
      if (size === 1) return 0;
      // Reflection is periodic: period 2 size (edge repeated) or 2 size - 2 (edge not repeated).
      const edge = mode === 'reflect' ? 1 : 0;
      const period = 2 * size - 2 + 2 * edge;
      let j = ((i % period) + period) % period;
      if (j >= size) j = period - j - 1 + (1 - edge);
      return j;
    }
  }
}
