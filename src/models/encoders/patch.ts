// smp's patch_first_conv: another number of input bands reuses the first conv's RGB weights.
// 1 band: the sum over RGB. More than 3: RGB repeated over the new bands, scaled by 3 / n so the
// activations keep their size. This runs on random or pretrained weights alike, so loading
// ImageNet weights first and then patching gives smp's result.
import { torch, nn, type Tensor } from '../../torch/index.js';
import { checkInt } from '../../validate.js';
import type { Encoder } from './base.js';

/** The first Conv2d that reads the input (3 channels) in registration order. */
export function firstConv(encoder: Encoder): [string, nn.Conv2d] {
  for (const [name, m] of encoder.namedModules()) {
    if (m instanceof nn.Conv2d && m.inChannels === 3) return [name, m];
  }
  throw new Error(`${encoder.constructor.name}: no 3-channel Conv2d to adapt to other input channels`);
}

export function patchFirstConv(encoder: Encoder, inChannels: number): void {
  checkInt('patchFirstConv', 'inChannels', inChannels, { min: 1 });
  const [, conv] = firstConv(encoder);
  const weight = conv.weight;
  const next = torch.noGrad(() =>
    torch.tidy((): Tensor => {
      if (inChannels === 1) return weight.sum({ dim: 1, keepdim: true });
      const reps = Math.ceil(inChannels / 3);
      return torch
        .cat(
          Array.from({ length: reps }, () => weight),
          1,
        )
        .narrow(1, 0, inChannels)
        .mul(3 / inChannels)
        .contiguous();
    }),
  );
  conv.setInChannels(inChannels, next);
  if (encoder.outChannels[0] === 3) encoder.outChannels[0] = inChannels;
}
