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

/** Where a model computes: the device of its first parameter ('cpu' for a model without any). */
export function deviceOf(model: { parameters(): Tensor[] }): string {
  return model.parameters()[0]?.device ?? 'cpu';
}

/** `t` on `device`: itself when it is there already, else a copy (freed by the enclosing tidy). */
export function onDevice(t: Tensor, device: string): Tensor {
  return t.device === device ? t : t.to({ device });
}

/** bf16 autocast around `fn` on the model's kind of device (bfloat16 runs on the CPU and on recent GPUs alike). */
export function withAutocast<T>(device: string, fn: () => T): T {
  return torch.autocast({ deviceType: device.startsWith('cuda') ? 'cuda' : 'cpu', dtype: 'bfloat16' }, fn);
}

/** loss(output, target), plus the auxiliary head's term weighted by model.auxLossWeight (0.4 as smp's DeepLab/PSP aux). */
export function lossOf(loss: LossFn, output: unknown, target: Tensor, auxWeight = 0.4): Tensor {
  const call = (p: Tensor) => (typeof loss === 'function' ? loss(p, target) : loss.forward(p, target));
  const out = output as Output;
  if (torch.isTensor(out)) return call(out);
  const main = call(logitsOf(out));
  return out.aux ? torch.tidy(() => main.add(call(out.aux!).mul(auxWeight))) : main;
}
