// EfficientNet's compound scaling (Tan & Le, "EfficientNet: Rethinking Model Scaling for
// Convolutional Neural Networks", ICML 2019), ported from lukemelas/EfficientNet-PyTorch's utils
// (the layout smp's `efficientnet-b*` encoders use) so channel counts, block counts and the
// TF-style static padding come out identical, and with them the state-dict keys and shapes.

export type EfficientNetName =
  | 'efficientnet-b0'
  | 'efficientnet-b1'
  | 'efficientnet-b2'
  | 'efficientnet-b3'
  | 'efficientnet-b4'
  | 'efficientnet-b5'
  | 'efficientnet-b6'
  | 'efficientnet-b7';

export interface GlobalParams {
  widthCoefficient: number;
  depthCoefficient: number;
  /** The resolution the static padding is computed for (TF's "SAME" at this input size). */
  imageSize: number;
  dropoutRate: number;
  /** PyTorch's BatchNorm momentum: 1 - TF's 0.99. */
  bnMomentum: number;
  bnEps: number;
  /** Stochastic-depth rate of the last block; block i gets rate * i / blocks. */
  dropConnectRate: number;
  depthDivisor: number;
}

/** One MBConv block after scaling and repetition. */
export interface BlockArgs {
  kernelSize: number;
  stride: number;
  expandRatio: number;
  inputFilters: number;
  outputFilters: number;
  seRatio: number;
  /** Input resolution at the imageSize the padding is computed for. */
  imageSize: number;
}

// efficientnet_params: width, depth, resolution, dropout.
const COEFFICIENTS: Record<EfficientNetName, [number, number, number, number]> = {
  'efficientnet-b0': [1.0, 1.0, 224, 0.2],
  'efficientnet-b1': [1.0, 1.1, 240, 0.2],
  'efficientnet-b2': [1.1, 1.2, 260, 0.3],
  'efficientnet-b3': [1.2, 1.4, 300, 0.3],
  'efficientnet-b4': [1.4, 1.8, 380, 0.4],
  'efficientnet-b5': [1.6, 2.2, 456, 0.4],
  'efficientnet-b6': [1.8, 2.6, 528, 0.5],
  'efficientnet-b7': [2.0, 3.1, 600, 0.5],
};

// The B0 stages ('r1_k3_s11_e1_i32_o16_se0.25', ...): repeats, kernel, stride, expansion, in, out.
const B0_STAGES: [number, number, number, number, number, number][] = [
  [1, 3, 1, 1, 32, 16],
  [2, 3, 2, 6, 16, 24],
  [2, 5, 2, 6, 24, 40],
  [3, 3, 2, 6, 40, 80],
  [3, 5, 1, 6, 80, 112],
  [4, 5, 2, 6, 112, 192],
  [1, 3, 1, 6, 192, 320],
];
const SE_RATIO = 0.25;

export const EFFICIENTNET_NAMES = Object.keys(COEFFICIENTS) as EfficientNetName[];

export function globalParams(name: EfficientNetName): GlobalParams {
  const [w, d, res, dropout] = COEFFICIENTS[name];
  // 1 - 0.99 in float64, the exact momentum lukemelas' BatchNorms get.
  return {
    widthCoefficient: w,
    depthCoefficient: d,
    imageSize: res,
    dropoutRate: dropout,
    bnMomentum: 1 - 0.99,
    bnEps: 1e-3,
    dropConnectRate: 0.2,
    depthDivisor: 8,
  };
}

/** round_filters: channels times the width multiplier, to a multiple of 8, never 10% below. */
export function roundFilters(filters: number, g: GlobalParams): number {
  const scaled = filters * g.widthCoefficient;
  const divisor = g.depthDivisor;
  let rounded = Math.max(divisor, Math.floor(Math.trunc(scaled + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

/** round_repeats: ceil(depth multiplier x repeats). */
export function roundRepeats(repeats: number, g: GlobalParams): number {
  return Math.ceil(g.depthCoefficient * repeats);
}

/** calculate_output_image_size: TF "SAME" gives ceil(size / stride). */
export function outputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/**
 * Conv2dStaticSamePadding's padding for a square input of `size`: [left, right, top, bottom],
 * the odd pixel on the right/bottom as TF does; null when there is none.
 */
export function staticSamePadding(size: number, kernel: number, stride: number, dilation = 1): number[] | null {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  if (total === 0) return null;
  const before = Math.floor(total / 2);
  return [before, total - before, before, total - before];
}

/** Every block of the network, in `_blocks` order, with the resolution its padding is built for. */
export function blockArgs(g: GlobalParams): BlockArgs[] {
  const blocks: BlockArgs[] = [];
  let size = outputSize(g.imageSize, 2); // after the stem
  for (const [r, k, s, e, i, o] of B0_STAGES) {
    const inputFilters = roundFilters(i, g);
    const outputFilters = roundFilters(o, g);
    const repeats = roundRepeats(r, g);
    blocks.push({ kernelSize: k, stride: s, expandRatio: e, inputFilters, outputFilters, seRatio: SE_RATIO, imageSize: size });
    size = outputSize(size, s);
    for (let n = 1; n < repeats; n++) {
      blocks.push({
        kernelSize: k,
        stride: 1,
        expandRatio: e,
        inputFilters: outputFilters,
        outputFilters,
        seRatio: SE_RATIO,
        imageSize: size,
      });
    }
  }
  return blocks;
}

/** smp's encoder settings: feature channels (input first) and the block indices ending strides 4, 8, 16. */
export const SMP_SETTINGS: Record<EfficientNetName, { outChannels: number[]; stageIdxs: [number, number, number]; file: string }> = {
  'efficientnet-b0': { outChannels: [3, 32, 24, 40, 112, 320], stageIdxs: [3, 5, 9], file: 'efficientnet-b0-355c32eb.pth' },
  'efficientnet-b1': { outChannels: [3, 32, 24, 40, 112, 320], stageIdxs: [5, 8, 16], file: 'efficientnet-b1-f1951068.pth' },
  'efficientnet-b2': { outChannels: [3, 32, 24, 48, 120, 352], stageIdxs: [5, 8, 16], file: 'efficientnet-b2-8bb594d6.pth' },
  'efficientnet-b3': { outChannels: [3, 40, 32, 48, 136, 384], stageIdxs: [5, 8, 18], file: 'efficientnet-b3-5fb5a3c3.pth' },
  'efficientnet-b4': { outChannels: [3, 48, 32, 56, 160, 448], stageIdxs: [6, 10, 22], file: 'efficientnet-b4-6ed6700e.pth' },
  'efficientnet-b5': { outChannels: [3, 48, 40, 64, 176, 512], stageIdxs: [8, 13, 27], file: 'efficientnet-b5-b6417697.pth' },
  'efficientnet-b6': { outChannels: [3, 56, 40, 72, 200, 576], stageIdxs: [9, 15, 31], file: 'efficientnet-b6-c76e70fd.pth' },
  'efficientnet-b7': { outChannels: [3, 64, 48, 80, 224, 640], stageIdxs: [11, 18, 38], file: 'efficientnet-b7-dcc49843.pth' },
};
