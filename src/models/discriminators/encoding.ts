// What the adversarial network sees (Luc et al. 2016, Sec. 3.2): class-probability maps, the
// true ones one-hot, encoded with the image as 'basic' (concatenated), 'product' (every class
// map times every image channel) or 'scaling' (basic, with the true maps softened towards the
// prediction so that "is it exactly one-hot" cannot give them away).
import { torch, F, type Tensor } from '../../torch/index.js';
import { checkChoice, checkNumber, invalidParameterError } from '../../validate.js';

export const ENCODINGS = ['basic', 'product', 'scaling'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** The channels of a label map for a model of `classes` outputs: a binary model's one becomes [background, foreground]. */
export function mapChannels(classes: number): number {
  return Math.max(classes, 2);
}

/** Class probabilities [N, C, H, W] from a model's logits: sigmoid as [1 - p, p] for one channel, softmax otherwise. */
export function probabilityMap(logits: Tensor): Tensor {
  return torch.tidy(() => {
    if (logits.shape[1] !== 1) return F.softmax(logits.float(), 1);
    const p = logits.float().sigmoid();
    return torch.cat([p.neg().add(1), p], 1);
  });
}

/**
 * The one-hot map [N, C, H, W] of a batch's mask ([N, H, W] class indices, or a binary model's
 * [N, 1, H, W] in {0, 1}). Pixels marked `ignoreIndex` take the prediction's values, so they tell
 * the adversary nothing.
 */
export function truthMap(mask: Tensor, prediction: Tensor, ignoreIndex: number): Tensor {
  const C = prediction.shape[1]!;
  return torch.tidy(() => {
    const m = mask.ndim === 4 ? mask.select(1, 0) : mask;
    const valid = m.ne(ignoreIndex);
    const indices = (m.dtype.startsWith('float') ? m.round().long() : m.long()).mul(valid.long());
    const hot = F.oneHot(indices.clamp(0, C - 1), C)
      .permute([0, 3, 1, 2])
      .float();
    return torch.where(valid.unsqueeze(1), hot, prediction.detach());
  });
}

/**
 * Luc et al.'s 'scaling': at each pixel the true class gets max(tau, its predicted probability)
 * and the other classes share the rest in the prediction's proportions.
 */
export function scaleTruth(truth: Tensor, prediction: Tensor, tau = 0.9): Tensor {
  checkNumber('scaleTruth', 'tau', tau, { min: 0, max: 1 });
  return torch.tidy(() => {
    const p = prediction.detach();
    const onTrue = truth.mul(p).sum({ dim: 1, keepdim: true }); // s_il at the true label l
    const top = onTrue.clamp(tau); // y_il
    // Others: s_ic (1 - y_il) / (1 - s_il); where s_il is 1 the others are 0 already.
    const rest = top.neg().add(1).div(onTrue.neg().add(1).clamp(1e-12));
    const others = p.mul(rest).mul(truth.neg().add(1));
    return others.add(truth.mul(top));
  });
}

/** The adversary's input for `encoding`: image [N, B, H, W] and label map [N, C, H, W]. */
export function encodeInput(encoding: Encoding, image: Tensor, map: Tensor): Tensor {
  checkChoice('encodeInput', 'encoding', encoding, ENCODINGS);
  const [n, , h, w] = map.shape;
  if (image.ndim !== 4 || image.shape[0] !== n || image.shape[2] !== h || image.shape[3] !== w)
    throw invalidParameterError('encodeInput', 'image', `a [${n}, bands, ${h}, ${w}] tensor (the label map's size)`, image.shape);
  return torch.tidy(() => {
    const x = image.float();
    if (encoding !== 'product') return torch.cat([x, map], 1);
    const bands = x.shape[1]!;
    return torch.cat(
      Array.from({ length: bands }, (_, k) => map.mul(x.narrow(1, k, 1))),
      1,
    );
  });
}
