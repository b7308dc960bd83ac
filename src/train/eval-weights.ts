// Validation with the averaged weights: an EMA's average goes into the model for the call, and
// the trained weights come back after it, whether it succeeds or throws.
import { torch, type Tensor } from '../torch/index.js';
import type { ModelEma } from '../torch/optim/ema.js';

/** Runs `fn` with `ema`'s average in `tensors` (the model's parameters and buffers), then restores them; no EMA: just `fn`. */
export function withAveragedWeights<T>(tensors: Tensor[], ema: ModelEma | null, fn: () => Promise<T>): Promise<T> {
  if (!ema) return fn();
  const backup = torch.keep(torch.noGrad(() => tensors.map((t) => t.clone())));
  ema.copyTo(tensors);
  return fn().finally(() => {
    torch.noGrad(() => tensors.forEach((t, i) => t.copy_(backup[i]!)));
    torch.dispose(backup);
  });
}
