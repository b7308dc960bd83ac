// Scoring a model on a labelled loader: the numbers a validation event, `segkit eval` and the
// report show, from one pass that keeps counts only (metrics.Accumulator), plus the best and
// worst images by Dice for the report's grid.
import { torch, type Tensor } from '../torch/index.js';
import type { Module } from '../torch/nn/index.js';
import type { Batch } from '../data/dataset.js';
import { DEFAULT_IGNORE_INDEX } from '../data/dataset.js';
import { Accumulator } from '../metrics/accumulator.js';
import type { ObjectScore } from '../metrics/objects.js';
import { type TtaMode, TTA_MODES, ttaTransforms } from '../infer/tta.js';
import { invalidParameterError, is, readOptions } from '../validate.js';
import type { EvalMetrics } from './events.js';
import { deviceOf, logitsOf, onDevice, targetFor, withAutocast, type LossFn } from './step.js';

export interface EvaluateOptions {
  /** Probability at or above which a pixel is foreground (binary models; default 0.5). */
  threshold?: number;
  /** Mask value that counts nowhere (default 255). */
  ignoreIndex?: number;
  /** Adds the mean loss per image to the result. */
  loss?: LossFn;
  /** bf16 autocast for the forward pass (on the model's device). */
  autocast?: boolean;
  /** Feed the model channels_last inputs. */
  channelsLast?: boolean;
  /** Test-time augmentation: score the mean probabilities over 'flips' (4) or 'd4' (8) transforms (default 'none'). */
  tta?: TtaMode;
  /** Keep this many best and worst images by Dice (default 0), for the report. */
  samples?: number;
  /** Stop early when aborted (the result covers the batches seen). */
  signal?: AbortSignal;
}

/** One image kept for the report: the input as fed, truth and prediction (the caller disposes them). */
export interface ScoredSample {
  name: string;
  dice: number;
  iou: number;
  image: Tensor;
  truth: Tensor;
  pred: Tensor;
}

export interface EvaluateResult extends EvalMetrics {
  /** With `samples`: the best images by Dice, best first, then the worst, worst first. */
  best?: ScoredSample[];
  worst?: ScoredSample[];
}

const KEYS = ['threshold', 'ignoreIndex', 'loss', 'autocast', 'channelsLast', 'tta', 'samples', 'signal'];

/**
 * The model's forward pass as prediction runs it: eval mode, no autograd, optional bf16 /
 * channels_last. With TTA the result is the logit of the mean probabilities over the transforms
 * (sigmoid for one channel, softmax otherwise), so thresholds, arg max and losses apply unchanged.
 */
export function forwardEval(
  model: Module,
  image: Tensor,
  options: { autocast?: boolean; channelsLast?: boolean; tta?: TtaMode } = {},
): Tensor {
  return torch.tidy(() => {
    const device = deviceOf(model as unknown as { parameters(): Tensor[] });
    const onIt = onDevice(image, device);
    const once = (input: Tensor) => {
      const x = options.channelsLast ? input.contiguous({ memoryFormat: 'channelsLast' }) : input;
      const run = () => logitsOf(model.forward(x));
      return torch.inferenceMode(() => (options.autocast ? withAutocast(device, run) : run())).float();
    };
    const transforms = ttaTransforms(options.tta ?? 'none');
    if (transforms.length === 1) return once(onIt);
    return torch.inferenceMode(() => {
      let sum: Tensor | null = null;
      for (const t of transforms) {
        const logits = t.inverse(once(t.forward(onIt)));
        const p = logits.shape[1] === 1 ? logits.sigmoid() : logits.softmax(1);
        sum = sum === null ? p : sum.add(p);
      }
      const p = sum!.div(transforms.length).clamp(1e-7, 1 - 1e-7);
      return p.shape[1] === 1 ? p.log().sub(p.neg().add(1).log()) : p.log();
    });
  });
}

/** Per-image Dice and IoU of 0/1 masks [N, H, W] with a validity mask, as plain numbers. */
function perImageScores(pred: Tensor, truth: Tensor, valid: Tensor): { dice: number[]; iou: number[] } {
  return torch.tidy(() => {
    const p = pred.logicalAnd(valid);
    const t = truth.logicalAnd(valid);
    const tp = p.logicalAnd(t).sum({ dim: [1, 2] });
    const ps = p.sum({ dim: [1, 2] });
    const ts = t.sum({ dim: [1, 2] });
    const [a, b, c] = [tp, ps, ts].map((v) => Array.from(v.toArray() as BigInt64Array, Number)) as [number[], number[], number[]];
    const dice = a.map((x, i) => (b[i]! + c[i]! === 0 ? 1 : (2 * x) / (b[i]! + c[i]!)));
    const iou = a.map((x, i) => (b[i]! + c[i]! - x === 0 ? 1 : x / (b[i]! + c[i]! - x)));
    return { dice, iou };
  });
}

/** Keeps the k best (or worst) by Dice, disposing what falls out. */
function keepTop(list: ScoredSample[], s: ScoredSample, k: number, better: (a: number, b: number) => boolean): void {
  if (list.length >= k && !better(s.dice, list[list.length - 1]!.dice)) {
    torch.dispose([s.image, s.truth, s.pred]);
    return;
  }
  list.push(s);
  list.sort((a, b) => (better(a.dice, b.dice) ? -1 : better(b.dice, a.dice) ? 1 : 0));
  while (list.length > k) {
    const out = list.pop()!;
    torch.dispose([out.image, out.truth, out.pred]);
  }
}

/**
 * Scores `model` on every batch of `loader`: pixel IoU, Dice, precision and recall (foreground
 * for binary models, the mean over classes for multiclass ones), the Tianchi score, SpaceNet's
 * object F1 (foreground components matched at IoU >= 0.5) and the confusion counts. The model is
 * left in eval mode; the caller's tensors are untouched.
 */
export async function evaluate(model: Module, loader: AsyncIterable<Batch>, options?: EvaluateOptions): Promise<EvaluateResult> {
  const where = 'evaluate';
  if (!is.object(model) || typeof (model as Module).forward !== 'function')
    throw invalidParameterError(where, 'model', 'an nn.Module', model);
  if (!is.object(loader) || typeof (loader as AsyncIterable<Batch>)[Symbol.asyncIterator] !== 'function')
    throw invalidParameterError(where, 'loader', 'a DataLoader (an async iterable of batches)', loader);
  const o = readOptions(where, options, KEYS);
  const threshold = o.probability('threshold', 0.5);
  const ignoreIndex = o.int('ignoreIndex', DEFAULT_IGNORE_INDEX, {});
  const loss = o.custom<LossFn | undefined>('loss', undefined, (v) => v === undefined || is.fn(v) || is.object(v), 'a Loss or a function');
  const autocast = o.bool('autocast', false);
  const channelsLast = o.bool('channelsLast', false);
  const tta = o.choice('tta', TTA_MODES, 'none');
  const k = o.int('samples', 0, { min: 0 });
  const signal = o.get('signal') as AbortSignal | undefined;
  model.eval();
  // Foreground vs background for every model: the building-mapping scores are binary.
  const fg = new Accumulator({
    mode: 'binary',
    ignoreIndex,
    scores: ['iouScore', 'f1Score', 'precision', 'recall', 'tianchiScore', 'objectScore'],
  });
  let multi: Accumulator | null = null;
  let lossSum = 0;
  let images = 0;
  const best: ScoredSample[] = [];
  const worst: ScoredSample[] = [];
  const confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for await (const batch of loader) {
    try {
      if (signal?.aborted) break;
      torch.tidy(() => {
        const logits = forwardEval(model, batch.image, { autocast, channelsLast, tta });
        const classes = logits.shape[1]!;
        const n = logits.shape[0]!;
        if (loss) {
          const l = torch.inferenceMode(() => callLoss(loss, logits, targetFor(onDevice(batch.mask, logits.device), classes)));
          lossSum += l.item() * n;
        }
        // Scores are counted on the CPU, where the batch's mask is (object matching works on arrays).
        const cls = onDevice(
          classes === 1 ? logits.sigmoid().ge(threshold).squeeze(1).long() : logits.argmax({ dim: 1 }),
          batch.mask.device,
        );
        const valid = batch.mask.ne(ignoreIndex);
        const truth = batch.mask.ne(0).logicalAnd(valid);
        const pred = cls.ne(0);
        fg.update(pred.long(), batch.mask.ne(0).long().where(valid, ignoreIndex));
        if (classes > 1) {
          multi ??= new Accumulator({
            mode: 'multiclass',
            numClasses: classes,
            ignoreIndex,
            reduction: 'macro',
            scores: ['iouScore', 'f1Score', 'precision', 'recall'],
          });
          multi.update(cls, batch.mask);
        }
        const counts = torch.tidy(() => {
          const p = pred.logicalAnd(valid);
          return [
            p.logicalAnd(truth),
            p.logicalAnd(truth.logicalNot()),
            truth.logicalAnd(p.logicalNot()),
            valid.logicalAnd(p.logicalOr(truth).logicalNot()),
          ].map((t) => Number(t.sum().item()));
        });
        confusion.tp += counts[0]!;
        confusion.fp += counts[1]!;
        confusion.fn += counts[2]!;
        confusion.tn += counts[3]!;
        if (k > 0) {
          const s = perImageScores(pred, truth, valid);
          for (let i = 0; i < n; i++) {
            const make = (): ScoredSample => ({
              name: batch.meta[i]?.name ?? `#${images + i}`,
              dice: s.dice[i]!,
              iou: s.iou[i]!,
              image: torch.keep(batch.image.select(0, i).clone()),
              truth: torch.keep(batch.mask.select(0, i).clone()),
              pred: torch.keep(pred.select(0, i).to({ dtype: 'uint8' })),
            });
            keepTop(best, make(), k, (a, b) => a > b);
            keepTop(worst, make(), k, (a, b) => a < b);
          }
        }
        images += n;
      });
    } finally {
      torch.dispose([batch.image, batch.mask]);
    }
  }
  if (images === 0) {
    torch.dispose([...best, ...worst].flatMap((s) => [s.image, s.truth, s.pred]));
    throw new Error(`${where}: the loader gave no images to score`);
  }
  const f = fg.compute();
  const m = multi ? (multi as Accumulator).compute() : f;
  const objects = f.objectScore as ObjectScore;
  const result: EvaluateResult = {
    iou: m.iouScore as number,
    dice: m.f1Score as number,
    precision: m.precision as number,
    recall: m.recall as number,
    tianchi: f.tianchiScore as number,
    objectF1: objects.f1,
    confusion,
    images,
  };
  if (loss) result.loss = lossSum / images;
  if (k > 0) Object.assign(result, { best, worst });
  return result;
}

function callLoss(loss: LossFn, prediction: Tensor, target: Tensor): Tensor {
  return typeof loss === 'function' ? loss(prediction, target) : loss.forward(prediction, target);
}
