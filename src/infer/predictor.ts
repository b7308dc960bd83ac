// Prediction with trained models: an image in [0, 1] (as the data sources scale it) becomes
// class probabilities the size of the image. Large images are cut into overlapping windows whose
// probabilities are blended (see windows.ts); test-time augmentation and several checkpoints
// (k-fold models, snapshot ensembles) are averaged in probability space.
import { torch, F, type Tensor } from '../torch/index.js';
import type { Module } from '../torch/nn/index.js';
import { SegmentationModel } from '../models/base.js';
import { loadTrained } from '../train/load.js';
import type { PredictInfo } from '../train/events.js';
import { invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import { type TtaMode, TTA_MODES, ttaTransforms } from './tta.js';
import { slidingWindows, type Window, windowWeights } from './windows.js';

/** A model with what prediction needs: its classes, normalisation and threshold (what loadTrained returns). */
export interface PredictorModel {
  model: SegmentationModel | Module;
  predict: PredictInfo;
}

export interface PredictorOptions {
  /** Test-time augmentation: 'none' (default), 'flips' (4 transforms) or 'd4' (8). */
  tta?: TtaMode;
  /** Window side in pixels, a multiple of 32 (default 512): memory and speed per forward pass. */
  window?: number;
  /** Pixels shared by neighbouring windows, blended with linear weights (default window / 4). */
  overlap?: number;
  /** Windows per forward pass (default 4). */
  batchSize?: number;
  /** 'auto' (default: the GPU when there is one), 'cpu', 'cuda' or 'cuda:<k>'. */
  device?: string;
  /** Foreground probability for binary masks (default: the first checkpoint's). */
  threshold?: number;
  /**
   * Sets the CPU tensor cache's limit in bytes for the process, as the Trainer's
   * (torch.cpu.setCacheLimit; 0 turns it off; default: left as it is, 'auto' unless changed: the most bytes live tensors have held, at least 1 GiB).
   */
  allocatorCache?: number;
  /**
   * model.optimizeForInference() on every model (BatchNorm folded into the convolutions, on the
   * CPU in channels_last; the same outputs within 1e-4 relative). It changes the models for good,
   * so the default is true for createPredictor's own models and false for models passed in.
   */
  optimize?: boolean;
  /**
   * 'float32' (default) or 'bfloat16': the forward passes under bfloat16 autocast (convolutions
   * and matrix products in bfloat16, probabilities and blending in float32). Faster where the CPU
   * has bfloat16 instructions (avx512_bf16, AMX) and on recent GPUs; on the shipped model the
   * held-out Dice moves by less than 0.005 (see the README).
   */
  precision?: Precision;
}

export const PRECISIONS = ['float32', 'bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];

const KEYS = ['tta', 'window', 'overlap', 'batchSize', 'device', 'threshold', 'allocatorCache', 'optimize', 'precision'];
const STRIDE = 32;

/** A model's probabilities: sigmoid for a binary model ([N, 1, H, W]: building), softmax over classes otherwise. */
function activate(logits: Tensor): Tensor {
  return logits.shape[1] === 1 ? logits.sigmoid() : logits.softmax(1);
}

function resolveDevice(where: string, device: string): string {
  const gpus = torch.cuda.isAvailable() ? torch.cuda.deviceCount() : 0;
  if (device === 'auto') return gpus > 0 ? 'cuda' : 'cpu';
  if (device === 'cpu') return device;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw invalidParameterError(where, 'device', "'auto', 'cpu', 'cuda' or 'cuda:<index>'", device);
  if (Number(m[1] ?? 0) >= gpus)
    throw outOfRangeError(
      where,
      'device',
      gpus === 0 ? "'cpu' or 'auto' (this libtorch has no CUDA, or no GPU is present)" : `a CUDA device below ${gpus}`,
      device,
    );
  return device;
}

export class Predictor {
  readonly models: PredictorModel[];
  readonly tta: TtaMode;
  readonly window: number;
  readonly overlap: number;
  readonly batchSize: number;
  readonly device: string;
  readonly threshold: number;
  readonly precision: Precision;
  /** Class names, background first (['background', 'building']). */
  readonly classes: string[];
  private readonly owned: boolean;

  /** Predicts with models already loaded (they stay the caller's to dispose). See `createPredictor` for checkpoints. */
  constructor(models: PredictorModel | PredictorModel[], options?: PredictorOptions, owned = false) {
    const where = 'Predictor';
    const list = Array.isArray(models) ? models : [models];
    if (list.length === 0) throw invalidParameterError(where, 'models', 'at least one { model, predict }', list);
    for (const [i, m] of list.entries())
      if (!is.object(m) || typeof (m.model as Module)?.forward !== 'function' || !is.object(m.predict))
        throw invalidParameterError(where, `models[${i}]`, '{ model, predict } as loadTrained returns', m);
    const first = list[0]!.predict;
    for (const [i, m] of list.entries()) {
      const p = m.predict;
      if (
        JSON.stringify(p.classes) !== JSON.stringify(first.classes) ||
        JSON.stringify(p.normalization) !== JSON.stringify(first.normalization)
      )
        throw invalidParameterError(
          where,
          `models[${i}]`,
          `a model with the classes and normalisation of models[0] (${JSON.stringify(first.classes)}, ${JSON.stringify(first.normalization)}) to be averaged with it`,
          { classes: p.classes, normalization: p.normalization },
        );
    }
    const o = readOptions(where, options, KEYS);
    this.tta = o.choice('tta', TTA_MODES, 'none');
    this.window = o.int('window', 512, { min: STRIDE });
    if (this.window % STRIDE !== 0) throw outOfRangeError(where, 'window', `a multiple of ${STRIDE}`, this.window);
    this.overlap = o.int('overlap', this.window / 4, { min: 0, max: this.window - STRIDE });
    this.batchSize = o.int('batchSize', 4, { min: 1 });
    this.device = resolveDevice(where, o.has('device') ? o.string('device') : 'auto');
    this.threshold = o.has('threshold') ? o.probability('threshold', 0.5) : first.threshold;
    this.precision = o.choice('precision', PRECISIONS, 'float32');
    if (o.has('allocatorCache')) torch.cpu.setCacheLimit(o.int('allocatorCache', 0, { min: 0 }));
    this.classes = [...first.classes];
    this.models = list;
    this.owned = owned;
    const optimize = o.bool('optimize', owned);
    for (const m of list) {
      m.model.eval();
      m.model.to({ device: this.device });
      // channels_last pays on the CPU's oneDNN convolutions; cuDNN picks its own layouts.
      if (optimize && m.model instanceof SegmentationModel) m.model.optimizeForInference({ channelsLast: this.device === 'cpu' });
    }
  }

  /**
   * Probabilities [K, H, W] for an image [C, H, W] scaled to [0, 1]: K = 1 (the building
   * probability) for binary models, else one channel per class. Float32, on the CPU.
   */
  probabilities(image: Tensor): Tensor {
    const where = 'Predictor.probabilities';
    if (!torch.isTensor(image) || image.ndim !== 3)
      throw invalidParameterError(where, 'image', 'a Tensor [channels, height, width]', image);
    const channels = (this.models[0]!.predict.modelOptions as { inChannels?: number }).inChannels ?? 3;
    if (image.shape[0] !== channels)
      throw invalidParameterError(
        where,
        'image',
        `a Tensor of ${channels} band(s) [${channels}, height, width], as the model was trained on`,
        `shape [${image.shape}]`,
      );
    return torch.tidy(() =>
      torch.inferenceMode(() => {
        const [, height, width] = image.shape as [number, number, number];
        const ph = Math.ceil(height / STRIDE) * STRIDE;
        const pw = Math.ceil(width / STRIDE) * STRIDE;
        const x = this.prepare(image, ph - height, pw - width);
        const { sum, total } = this.windowSums(x, slidingWindows(pw, ph, this.window, this.overlap));
        return sum.div(total).narrow(1, 0, height).narrow(2, 0, width).to({ device: 'cpu' }).contiguous();
      }),
    );
  }

  /**
   * @internal The image [C, H, W] normalised on the predictor's device, padded at the bottom and
   * right by reflection (replication where the image is too small to reflect).
   */
  prepare(image: Tensor, padBottom: number, padRight: number): Tensor {
    const norm = this.models[0]!.predict.normalization;
    const [, height, width] = image.shape as [number, number, number];
    let x = image.float().to({ device: this.device });
    if (norm)
      x = x
        .sub(torch.tensor(norm.mean, { shape: [norm.mean.length, 1, 1], device: this.device }))
        .div(torch.tensor(norm.std, { shape: [norm.std.length, 1, 1], device: this.device }));
    if (padBottom === 0 && padRight === 0) return x;
    const mode = padBottom < height && padRight < width ? 'reflect' : 'replicate';
    return F.pad(x.unsqueeze(0), [0, padRight, 0, padBottom], { mode }).squeeze(0);
  }

  /** The mask [H, W] (uint8) of an image [C, H, W] in [0, 1]: probability >= threshold for binary models, the arg max otherwise. */
  mask(image: Tensor): Tensor {
    return torch.tidy(() => {
      const p = this.probabilities(image);
      return (p.shape[0] === 1 ? p.squeeze(0).ge(this.threshold) : p.argmax({ dim: 0 })).to({ dtype: 'uint8' });
    });
  }

  /**
   * @internal The weighted sums of the windows' probabilities over x [C, H, W] (prepared) and the
   * sums of their weights, [K, H, W] and [1, H, W]: their quotient is the blended prediction.
   */
  windowSums(x: Tensor, windows: Window[]): { sum: Tensor; total: Tensor } {
    const [, height, width] = x.shape as [number, number, number];
    const { width: ww, height: wh } = windows[0]!;
    const weights = torch.tensor(windowWeights(ww, wh, this.overlap), { shape: [1, 1, wh, ww], device: this.device });
    let sum: Tensor | null = null;
    const total = torch.zeros([1, height, width], { device: this.device });
    for (let i = 0; i < windows.length; i += this.batchSize) {
      const batch = windows.slice(i, i + this.batchSize);
      // No autograd graph: a graph would keep every window's activations alive for as long as the sums live.
      const p = torch.tidy(() =>
        torch.noGrad(() => this.averaged(torch.stack(batch.map((w) => x.narrow(1, w.y, w.height).narrow(2, w.x, w.width)))).mul(weights)),
      );
      const acc = (sum ??= torch.zeros([p.shape[1]!, height, width], { device: this.device }));
      torch.tidy(() =>
        batch.forEach((w, j) => {
          acc.narrow(1, w.y, w.height).narrow(2, w.x, w.width).add_(p.select(0, j));
          total.narrow(1, w.y, w.height).narrow(2, w.x, w.width).add_(weights.select(0, 0));
        }),
      );
      p.dispose();
    }
    weights.dispose();
    return { sum: sum!, total };
  }

  /** The mean probabilities of every model under every TTA transform, [N, K, h, w]. */
  private averaged(input: Tensor): Tensor {
    const transforms = ttaTransforms(this.tta);
    let acc: Tensor | null = null;
    for (const { model } of this.models)
      for (const t of transforms) {
        const x = t.forward(input);
        const logits =
          this.precision === 'bfloat16'
            ? torch
                .autocast({ deviceType: this.device.startsWith('cuda') ? 'cuda' : 'cpu', dtype: 'bfloat16' }, () =>
                  logitsOf(model.forward(x)),
                )
                .float()
            : logitsOf(model.forward(x));
        const p = t.inverse(activate(logits));
        acc = acc === null ? p : acc.add(p);
      }
    return acc!.div(this.models.length * transforms.length);
  }

  /** Frees the models when the predictor loaded them (createPredictor). */
  dispose(): void {
    if (this.owned) for (const m of this.models) m.model.dispose();
  }
}

function logitsOf(output: unknown): Tensor {
  if (torch.isTensor(output)) return output;
  return (output as { mask: Tensor }).mask;
}

/** A Predictor over one checkpoint or several (averaged), each written by the Trainer. */
export function createPredictor(checkpoints: string | string[], options?: PredictorOptions): Predictor {
  const paths = Array.isArray(checkpoints) ? checkpoints : [checkpoints];
  if (paths.length === 0 || !paths.every((p) => typeof p === 'string' && p !== ''))
    throw invalidParameterError('createPredictor', 'checkpoints', 'a checkpoint path or an array of them', checkpoints);
  const loaded: PredictorModel[] = [];
  try {
    for (const p of paths) loaded.push(loadTrained(p));
    return new Predictor(loaded, options, true);
  } catch (e) {
    for (const m of loaded) m.model.dispose();
    throw e;
  }
}
