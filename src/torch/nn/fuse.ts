// Folding eval-mode BatchNorm2d into the Conv2d that feeds it, as torch.fx's fuse pass and
// torch.jit.freeze do: W' = W * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta, and
// the BatchNorm becomes the identity. Which conv feeds which BatchNorm is read off one traced
// forward pass (the modules' forward calls and the tensors between them), since a model's
// forward is code, not a graph; the folded model is then checked against the traced output and
// put back as it was if they differ (a conv output used elsewhere too, or changed in place first).
import { Tensor } from '../tensor.js';
import { dispose, keep, tidy } from '../scope.js';
import { inferenceMode, noGrad } from '../autograd.js';
import { backends } from '../runtime.js';
import type { Module } from './module.js';
import { Conv2d, ConvTranspose2d } from './layers/conv.js';
import { BatchNorm2d } from './layers/normalization.js';

export interface FoldResult {
  /** BatchNorm2d modules folded into their convolutions. */
  folded: number;
  /** BatchNorm2d modules left as they are (fed by something other than one convolution, shared, or not reached by the example). */
  kept: number;
  /** max |folded - traced| / max |traced| over the outputs of the example. */
  relativeError: number;
}

type Forward = (...args: unknown[]) => unknown;
/** Output channels are dim 0 of a Conv2d's weight and dim 1 of a ConvTranspose2d's (groups 1 only). */
type Conv = Conv2d | ConvTranspose2d;
const outDim = (c: Conv) => (c instanceof ConvTranspose2d ? [1, -1, 1, 1] : [-1, 1, 1, 1]);

function outputTensors(out: unknown): Tensor[] {
  if (out instanceof Tensor) return [out];
  if (Array.isArray(out)) return out.flatMap(outputTensors);
  if (out !== null && typeof out === 'object') return Object.values(out).flatMap(outputTensors);
  return [];
}

function relativeError(a: Tensor[], b: Tensor[]): number {
  // The L2 norm of the difference over that of the reference, all outputs together: the measure
  // torch.testing's callers and numerical analysts mean by "relative error". A max-abs ratio is
  // dominated by float32 accumulation noise in random deep nets (the unoptimised model in float32
  // is itself 3e-5 from float64 by that measure) and would refuse correct folds.
  return tidy(() => {
    let diff = 0;
    let scale = 0;
    a.forEach((t, i) => {
      diff += t.double().sub(b[i]!.double()).square().sum().item();
      scale += t.double().square().sum().item();
    });
    return scale === 0 ? Math.sqrt(diff) : Math.sqrt(diff / scale);
  });
}

/** Pairs (conv, bn) where bn's only input in the traced pass was conv's output. */
function trace(model: Module, example: unknown[]): { pairs: [Conv, BatchNorm2d][]; kept: number; outputs: Tensor[] } {
  const madeBy = new WeakMap<Tensor, Conv>();
  const fedBy = new Map<BatchNorm2d, Set<Conv | null>>();
  const restore: [Module, Forward][] = [];
  for (const m of model.modules()) {
    if (m instanceof Conv2d || (m instanceof ConvTranspose2d && m.groups === 1)) {
      const f = m.forward as Forward;
      restore.push([m, f]);
      m.forward = ((...a: unknown[]) => {
        const y = f.apply(m, a) as Tensor;
        madeBy.set(y, m);
        return y;
      }) as typeof m.forward;
    } else if (m instanceof BatchNorm2d) {
      const f = m.forward as Forward;
      restore.push([m, f]);
      fedBy.set(m, new Set());
      m.forward = ((x: Tensor) => {
        fedBy.get(m)!.add(madeBy.get(x) ?? null);
        return f.call(m, x) as Tensor;
      }) as typeof m.forward;
    }
  }
  let outputs: Tensor[];
  try {
    outputs = tidy(() => outputTensors(inferenceMode(() => (model.forward as Forward)(...example))).map((t) => t.clone()));
  } finally {
    for (const [m, f] of restore) m.forward = f as typeof m.forward;
  }
  const convUses = new Map<Conv, number>();
  for (const s of fedBy.values()) for (const c of s) if (c) convUses.set(c, (convUses.get(c) ?? 0) + 1);
  const pairs: [Conv, BatchNorm2d][] = [];
  for (const [bn, s] of fedBy) {
    const conv = [...s][0];
    const foldable =
      s.size === 1 && conv && convUses.get(conv) === 1 && bn.runningMean && bn.runningVar && conv.weight.dtype === bn.runningVar.dtype;
    if (foldable) pairs.push([conv, bn]);
  }
  return { pairs, kept: fedBy.size - pairs.length, outputs };
}

/**
 * Folds every BatchNorm2d fed by a Conv2d (or a ConvTranspose2d without groups) into it, for inference (the model is put in eval mode
 * and must stay there: the folded BatchNorms no longer normalise). `example` is what forward
 * takes: one pass traces the model. The model's state dict changes: save the model before, not
 * after. Returns what was folded and the relative difference on the example (the L2 norm of the
 * difference over the original output's); when that exceeds `tolerance`, nothing is changed and
 * an Error says so. The default, 1e-4, is far above float32 rounding (about 1e-6 even on random
 * deep nets) and far below what a wrong fold does (a BatchNorm applied to the wrong tensor is off
 * by order 1).
 */
export function foldBatchNorms(model: Module, example: Tensor | unknown[], tolerance = 1e-4): FoldResult {
  // The two passes run libtorch's direct convolutions: Winograd's transformed weights (38 MB for
  // a 512-to-512 layer) would come on top of the weights held twice during the fold, a peak above
  // the prediction's; and the comparison then measures the fold alone.
  const winograd = backends.winograd.enabled;
  backends.winograd.enabled = false;
  try {
    return fold(model, example, tolerance);
  } finally {
    backends.winograd.enabled = winograd;
  }
}

function fold(model: Module, example: Tensor | unknown[], tolerance: number): FoldResult {
  model.eval();
  const args = Array.isArray(example) ? example : [example];
  const { pairs, kept, outputs } = trace(model, args);
  const saved: [Conv, BatchNorm2d, Tensor, Tensor | null, Forward][] = [];
  noGrad(() => {
    for (const [conv, bn] of pairs) {
      const oldBias = conv.bias;
      // Aliases of the original storages, not copies: setData gives the parameters new ones, so
      // the fold holds the weights twice at most, not three times (a copy, the original, the
      // folded), and its transient peak stays under a prediction's.
      saved.push([conv, bn, conv.weight.detach(), oldBias ? oldBias.detach() : null, bn.forward as Forward]);
      tidy(() => {
        // In float64, then rounded once: the folded weights are as close to W * g / sqrt(v + eps) as float32 allows.
        const dtype = conv.weight.dtype;
        const scale = bn.runningVar!.double().add(bn.eps).rsqrt();
        const gamma = bn.weight ? scale.mul(bn.weight.double()) : scale;
        const mean = bn.runningMean!.double();
        const shift = (oldBias ? oldBias.double().sub(mean) : mean.neg()).mul(gamma);
        const bias = (bn.bias ? shift.add(bn.bias.double()) : shift).to({ dtype });
        conv.weight.setData(
          conv.weight
            .double()
            .mul_(gamma.reshape(outDim(conv)))
            .to({ dtype }),
        );
        if (oldBias) oldBias.setData(bias);
        else conv.registerParameter('bias', keep(bias.detach()));
      });
      bn.forward = ((x: Tensor) => x) as typeof bn.forward;
    }
  });
  const after = tidy(() => outputTensors(inferenceMode(() => (model.forward as Forward)(...args))).map((t) => t.clone()));
  const err = relativeError(outputs, after);
  dispose([...outputs, ...after]);
  if (!(err <= tolerance)) {
    noGrad(() => {
      for (const [conv, bn, w, b, f] of saved) {
        conv.weight.setData(w);
        if (b) conv.bias!.setData(b);
        else {
          conv.bias?.dispose();
          conv.registerParameter('bias', null);
        }
        bn.forward = f as typeof bn.forward;
      }
    });
  }
  dispose(saved.flatMap(([, , w, b]) => (b ? [w, b] : [w])));
  if (!(err <= tolerance)) {
    throw new Error(
      `foldBatchNorms: the folded model's output differs from the original by ${err.toExponential(2)} (relative), more than ${tolerance}; the model is left as it was`,
    );
  }
  return { folded: pairs.length, kept, relativeError: err };
}
