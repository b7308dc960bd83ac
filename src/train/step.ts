// The pieces of one training step, usable in a hand-written loop as the Trainer uses them:
// what the loss sees as target, the logits of whatever the model returns, and the loss of an
// output with an auxiliary head.
import { torch, type Tensor } from '../torch/index.js';
import type { Loss } from '../losses/loss.js';

/** A loss module or any function of (prediction, target). */
export type LossFn = Loss | ((prediction: Tensor, target: Tensor) => Tensor);

type Output = Tensor | { mask: Tensor; aux?: Tensor; label?: Tensor };

/** The mask logits of a model's output (a tensor, or smp's { mask, label } / { mask, aux }). */
export function logitsOf(output: unknown): Tensor {
  if (torch.isTensor(output)) return output;
  if (output !== null && typeof output === 'object' && torch.isTensor((output as { mask?: unknown }).mask))
    return (output as { mask: Tensor }).mask;
  throw new TypeError(`the model returned ${typeof output}; expected a Tensor of logits or { mask }`);
}

/**
 * The target a loss takes for a batch's mask and a model of `classes` output channels: binary
 * models get float [N, 1, H, W] (ignored pixels keep their value, which the losses skip),
 * multiclass models the int64 [N, H, W] indices, multilabel masks (float [N, K, H, W]) pass as they are.
 */
export function targetFor(mask: Tensor, classes: number): Tensor {
  if (mask.ndim === 3 && classes === 1) return mask.unsqueeze(1).float();
  return mask;
}

/** loss(output, target), plus the auxiliary head's term weighted by model.auxLossWeight (0.4 as smp's DeepLab/PSP aux). */
export function lossOf(loss: LossFn, output: unknown, target: Tensor, auxWeight = 0.4): Tensor {
  const call = (p: Tensor) => (typeof loss === 'function' ? loss(p, target) : loss.forward(p, target));
  const out = output as Output;
  if (torch.isTensor(out)) return call(out);
  const main = call(logitsOf(out));
  return out.aux ? torch.tidy(() => main.add(call(out.aux!).mul(auxWeight))) : main;
}
