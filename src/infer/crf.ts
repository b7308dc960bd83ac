// Dense CRF post-processing as in DeepLab v1 (Chen et al., "Semantic Image Segmentation with
// Deep Convolutional Nets and Fully Connected CRFs", ICLR 2015): the network's probabilities
// are the unary term of the fully connected CRF of Krähenbühl and Koltun (NIPS 2011), whose
// appearance kernel pulls pixels of similar colour nearby towards the same label, so a coarse
// prediction snaps to the image's edges. Mean-field inference and the permutohedral lattice
// run in the addon (native/crf.cc); this file checks and converts what the caller passes.
import { isTensor, type Tensor } from '../torch/index.js';
import { native } from '../torch/native.js';
import { checkFinite, invalidParameterError, readOptions } from '../validate.js';

/** The appearance (bilateral) kernel w1 exp(-|p_i - p_j|^2 / 2 xyStd^2 - |I_i - I_j|^2 / 2 rgbStd^2). */
export interface AppearanceKernel {
  /** w1; 0 turns the kernel off. */
  weight?: number;
  /** θα, in pixels. */
  xyStd?: number;
  /** θβ, in 0..255 colour levels. */
  rgbStd?: number;
}

/** The smoothness kernel w2 exp(-|p_i - p_j|^2 / 2 xyStd^2), which removes small isolated regions. */
export interface SmoothnessKernel {
  /** w2; 0 turns the kernel off. */
  weight?: number;
  /** θγ, in pixels. */
  xyStd?: number;
}

export interface DenseCrfOptions {
  /** Image width in pixels: required with typed arrays, read from the shape of tensors. */
  width?: number;
  /** Image height in pixels: required with typed arrays, read from the shape of tensors. */
  height?: number;
  /** Mean-field iterations (10). */
  iterations?: number;
  appearance?: AppearanceKernel;
  smoothness?: SmoothnessKernel;
}

/**
 * DeepLab v1's CRF parameters: those of its published DeepLab-LargeFOV model (the paper's best
 * on PASCAL VOC 2012, `bi_w = 4, bi_xy_std = 121, bi_rgb_std = 5, pos_w = 3, pos_xy_std = 3`, 10
 * mean-field iterations). The paper fixes w2 = 3 and θγ = 3 and cross-validates w1, θα and θβ
 * on 100 validation images. They were tuned on PASCAL photographs of about 500 x 375 pixels
 * whose objects span much of the frame: θα = 121 px is a quarter of the image there, about 9 m
 * on a 7.5 cm aerial tile. Scale xyStd with your ground resolution if it differs much.
 */
export const DEEPLAB_CRF = Object.freeze({
  iterations: 10,
  appearance: Object.freeze({ weight: 4, xyStd: 121, rgbStd: 5 }),
  smoothness: Object.freeze({ weight: 3, xyStd: 3 }),
});

const WHERE = 'denseCrf';
const KEYS = ['width', 'height', 'iterations', 'appearance', 'smoothness'] as const;

/** An RGB image: interleaved bytes (HWC), or a tensor, uint8 [H, W, 3] or float [3, H, W] in [0, 1]. */
export type CrfImage = Uint8Array | Uint8ClampedArray | Tensor;
/** Probabilities: [K, H, W] row-major (K >= 2, or K = 1 for a binary model's sigmoid output), as an array or a tensor. */
export type CrfProbabilities = Float32Array | Float64Array | Tensor;

/**
 * Refines per-pixel class probabilities with a fully connected CRF (Krähenbühl and Koltun 2011)
 * as DeepLab v1 does: unary -log P, Potts pairwise with an appearance and a smoothness
 * Gaussian kernel, mean-field inference with permutohedral-lattice filtering (Adams et al.
 * 2010), linear in the pixel count. Runs on the CPU, single-threaded.
 *
 * `probabilities` holds K planes of H x W (K >= 2, softmax output), or a single plane (K = 1):
 * a binary model's sigmoid p, read as the two classes [1 - p, p]. Returns the refined
 * probabilities in the same layout: K planes, or for K = 1 the refined p of the foreground.
 * Probabilities are clamped below at 1e-8 (so -log stays finite); each pixel's are renormalised.
 */
export function denseCrf(image: CrfImage, probabilities: CrfProbabilities, options?: DenseCrfOptions): Float32Array {
  const o = readOptions(WHERE, options, KEYS);
  const iterations = o.int('iterations', DEEPLAB_CRF.iterations);
  const a = o.nested<AppearanceKernel>('appearance', ['weight', 'xyStd', 'rgbStd']);
  const s = o.nested<SmoothnessKernel>('smoothness', ['weight', 'xyStd']);
  const num = (reader: typeof a | typeof s, name: string, fallback: number, positive: boolean) =>
    checkFinite(
      WHERE,
      `${reader?.prefix ?? ''}${name}`,
      reader?.get(name) ?? fallback,
      positive ? { min: 0, exclusive: 'min' } : { min: 0 },
    );
  const w1 = num(a, 'weight', DEEPLAB_CRF.appearance.weight, false);
  const xyStd1 = num(a, 'xyStd', DEEPLAB_CRF.appearance.xyStd, true);
  const rgbStd = num(a, 'rgbStd', DEEPLAB_CRF.appearance.rgbStd, true);
  const w2 = num(s, 'weight', DEEPLAB_CRF.smoothness.weight, false);
  const xyStd2 = num(s, 'xyStd', DEEPLAB_CRF.smoothness.xyStd, true);

  const img = readImage(image);
  const prob = readProbabilities(probabilities);
  const width = img.width ?? prob.width ?? o.int('width');
  const height = img.height ?? prob.height ?? o.int('height');
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (o.has(name)) {
      const given = o.int(name);
      if (given !== v) throw invalidParameterError(WHERE, name, `${v} (the size of the image or probabilities tensor)`, given, RangeError);
    }
  }
  for (const t of [img, prob]) {
    if (t.width !== undefined && (t.width !== width || t.height !== height)) {
      throw new RangeError(`${WHERE}: image and probabilities must have the same size, got ${img.describe} and ${prob.describe}`);
    }
  }
  const n = width * height;
  if (n === 0) throw new RangeError(`${WHERE}: the image must have at least one pixel, got ${width} x ${height}`);
  if (img.data.length !== n * 3) {
    throw invalidParameterError(
      WHERE,
      'image',
      `${n * 3} bytes (height ${height} x width ${width} x 3, RGB interleaved)`,
      `${img.data.length} bytes`,
      RangeError,
    );
  }
  if (prob.data.length === 0 || prob.data.length % n !== 0) {
    throw invalidParameterError(
      WHERE,
      'probabilities',
      `K x ${height} x ${width} values (K planes of height x width)`,
      `${prob.data.length} values`,
      RangeError,
    );
  }
  const k = prob.data.length / n;
  const binary = k === 1;
  let p = prob.data;
  if (binary) {
    // A sigmoid output p is the two-class distribution [1 - p, p].
    p = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = prob.data[i]!;
      p[i] = 1 - v;
      p[n + i] = v;
    }
  }
  const q = native.denseCrf(img.data, width, height, p, binary ? 2 : k, iterations, w1, xyStd1, rgbStd, w2, xyStd2);
  return binary ? q.slice(n) : q;
}

interface Read<T> {
  data: T;
  width?: number;
  height?: number;
  describe: string;
}

function readImage(image: unknown): Read<Uint8Array | Uint8ClampedArray> {
  if (image instanceof Uint8Array || image instanceof Uint8ClampedArray) return { data: image, describe: `${image.length} bytes` };
  const expected = 'a Uint8Array of RGB bytes (H x W x 3), or a uint8 [H, W, 3] or float [3, H, W] tensor';
  if (!isTensor(image)) throw invalidParameterError(WHERE, 'image', expected, image);
  const shape = image.shape;
  const describe = `${image.dtype} [${shape.join(', ')}]`;
  if (image.dtype === 'uint8' && shape.length === 3 && shape[2] === 3) {
    return { data: image.toArray() as Uint8Array, height: shape[0]!, width: shape[1]!, describe };
  }
  if ((image.dtype === 'float32' || image.dtype === 'float64') && shape.length === 3 && shape[0] === 3) {
    const [, h, w] = shape as [number, number, number];
    const chw = image.toArray() as Float32Array | Float64Array;
    const n = h * w;
    // Clamped: values round into 0..255 however far outside [0, 1] they stray.
    const rgb = new Uint8ClampedArray(n * 3);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < n; i++) rgb[i * 3 + c] = chw[c * n + i]! * 255;
    }
    return { data: rgb, height: h, width: w, describe };
  }
  const kind = image.dtype === 'uint8' || image.dtype === 'float32' || image.dtype === 'float64' ? RangeError : TypeError;
  throw invalidParameterError(WHERE, 'image', expected, describe, kind);
}

function readProbabilities(probabilities: unknown): Read<Float32Array> {
  if (probabilities instanceof Float32Array) return { data: probabilities, describe: `${probabilities.length} values` };
  if (probabilities instanceof Float64Array) return { data: Float32Array.from(probabilities), describe: `${probabilities.length} values` };
  const expected = 'a Float32Array of K x H x W values, or a float [K, H, W] or [H, W] tensor';
  if (!isTensor(probabilities)) throw invalidParameterError(WHERE, 'probabilities', expected, probabilities);
  const shape = probabilities.shape;
  const describe = `${probabilities.dtype} [${shape.join(', ')}]`;
  if (probabilities.dtype !== 'float32' && probabilities.dtype !== 'float64')
    throw invalidParameterError(WHERE, 'probabilities', expected, describe);
  if (shape.length !== 2 && shape.length !== 3) throw invalidParameterError(WHERE, 'probabilities', expected, describe, RangeError);
  const values = probabilities.toArray() as Float32Array | Float64Array;
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  return { data, height: h, width: w, describe };
}

/** Options of gaussianFilter. */
export interface GaussianFilterOptions {
  /** Feature dimensions d: `features` holds n points of d values. */
  dims: number;
  /** Values per point (1). */
  channels?: number;
}

/**
 * The Gaussian-weighted mean of `values` in feature space, out_i = sum_j g_ij v_j / sum_j g_ij
 * with g_ij = exp(-|f_i - f_j|^2 / 2), computed in linear time on the permutohedral lattice
 * (Adams et al. 2010). It approximates: within about 2 % of the exact filter on smooth values,
 * up to 10-20 % on white noise (relative L2, test/crf.test.ts). Divide each feature by its
 * standard deviation first: (x / 20, y / 20, r / 10, g / 10, b / 10) for a bilateral filter.
 * `features` holds n x dims floats, `values` n x channels, point by point; so does the result.
 */
export function gaussianFilter(features: Float32Array, values: Float32Array, options: GaussianFilterOptions): Float32Array {
  const where = 'gaussianFilter';
  const o = readOptions(where, options, ['dims', 'channels']);
  const dims = o.int('dims', undefined, { min: 1, max: 15 });
  const channels = o.int('channels', 1);
  if (!(features instanceof Float32Array)) throw invalidParameterError(where, 'features', 'a Float32Array', features);
  if (!(values instanceof Float32Array)) throw invalidParameterError(where, 'values', 'a Float32Array', values);
  if (features.length % dims !== 0) {
    throw invalidParameterError(where, 'features', `a multiple of dims = ${dims} values`, `${features.length} values`, RangeError);
  }
  const n = features.length / dims;
  if (values.length !== n * channels) {
    throw invalidParameterError(where, 'values', `n x channels = ${n} x ${channels} values`, `${values.length} values`, RangeError);
  }
  // The lattice's output is off by a constant factor: filtering a column of ones alongside the
  // values and dividing by it cancels that, and makes the result a weighted mean.
  const vd = channels + 1;
  const withOnes = new Float32Array(n * vd);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) withOnes[i * vd + c] = values[i * channels + c]!;
    withOnes[i * vd + channels] = 1;
  }
  const raw = native.permutohedralFilter(features, dims, withOnes, vd);
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const norm = 1 / (raw[i * vd + channels]! + 1e-20);
    for (let c = 0; c < channels; c++) out[i * channels + c] = raw[i * vd + c]! * norm;
  }
  return out;
}
