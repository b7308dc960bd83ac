// One training batch: forward, loss, backward (no optimizer step: the Trainer accumulates), and
// the foreground counts of its predictions for the running Dice.
import { torch, type Tensor } from '../torch/index.js';
import type { Resolved } from './options.js';
import { deviceOf, lossOf, logitsOf, onDevice, targetFor, withAutocast } from './step.js';

/** One batch: forward, loss, backward; returns the loss and the foreground counts of its predictions. */
export function trainBatch(o: Resolved, image: Tensor, mask: Tensor): { loss: number; tp: number; fp: number; fn: number } {
  return torch.tidy(() => {
    // Batches come from the loader on the CPU; they go where the model is.
    const device = deviceOf(o.model);
    const onIt = onDevice(image, device);
    const x = o.channelsLast ? onIt.contiguous({ memoryFormat: 'channelsLast' }) : onIt;
    const m = onDevice(mask, device);
    const output = o.autocast ? withAutocast(device, () => o.model.forward(x)) : o.model.forward(x);
    const logits = logitsOf(output);
    const classes = logits.shape[1]!;
    const target = targetFor(m, classes);
    const loss = lossOf(o.loss, output, target, (o.model as { auxLossWeight?: number }).auxLossWeight ?? 0.4).float();
    const value = loss.item();
    if (!Number.isFinite(value)) return { loss: value, tp: 0, fp: 0, fn: 0 };
    (o.accumulate > 1 ? loss.div(o.accumulate) : loss).backward();
    const counts = torch.noGrad(() => foregroundCounts(o, logits, m, classes));
    return { loss: value, ...counts };
  });
}

/** True and false positives and false negatives of the thresholded prediction (foreground, ignored pixels out). */
export function foregroundCounts(
  o: Pick<Resolved, 'ignoreIndex' | 'threshold'>,
  logits: Tensor,
  m: Tensor,
  classes: number,
): { tp: number; fp: number; fn: number } {
  const valid = m.ne(o.ignoreIndex);
  const pred = (
    classes === 1 ? logits.detach().float().sigmoid().ge(o.threshold).squeeze(1) : logits.detach().argmax({ dim: 1 }).ne(0)
  ).logicalAnd(valid);
  const truth = (m.ndim === 3 ? m.ne(0) : m.select(1, 0).ge(0.5)).logicalAnd(valid);
  // One copy to the host for the three counts (one sync on a GPU, not three).
  const sums = torch.stack(
    [pred.logicalAnd(truth), pred.logicalAnd(truth.logicalNot()), truth.logicalAnd(pred.logicalNot())].map((t) => t.sum()),
  );
  const c = Array.from(sums.to({ device: 'cpu' }).toArray() as ArrayLike<number | bigint>, Number);
  return { tp: c[0]!, fp: c[1]!, fn: c[2]! };
}
