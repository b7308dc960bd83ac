// FCN's bilinear initialisation of its deconvolutions (fcn.berkeleyvision.org surgery.py:
// upsample_filt and interp): each class is upsampled on its own, so the kernel sits on the
// diagonal of the (in, out) channel pair and the rest is zero.
import { torch, type nn, type Tensor } from '../../../torch/index.js';

/** upsample_filt: the 2-D bilinear kernel of a `size` x `size` deconvolution, row-major. */
export function bilinearFilter(size: number): Float32Array {
  const factor = Math.floor((size + 1) / 2);
  const center = size % 2 === 1 ? factor - 1 : factor - 0.5;
  const out = new Float32Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) out[i * size + j] = (1 - Math.abs(i - center) / factor) * (1 - Math.abs(j - center) / factor);
  }
  return out;
}

/** The (channels, channels, size, size) weight with bilinearFilter(size) on the diagonal. */
export function bilinearWeight(channels: number, size: number): Tensor {
  const filt = bilinearFilter(size);
  const data = new Float32Array(channels * channels * size * size);
  for (let c = 0; c < channels; c++) data.set(filt, (c * channels + c) * size * size);
  return torch.tensor(data, { shape: [channels, channels, size, size] });
}

/** interp: sets a square ConvTranspose2d with as many inputs as outputs to bilinear upsampling. */
export function initBilinear_(deconv: nn.ConvTranspose2d): void {
  const [k, k2] = deconv.kernelSize;
  if (k !== k2 || deconv.inChannels !== deconv.outChannels || deconv.groups !== 1) {
    throw new RangeError(
      `initBilinear_: needs a square kernel and inChannels = outChannels, got kernel [${k}, ${k2}], ${deconv.inChannels} -> ${deconv.outChannels}`,
    );
  }
  torch.noGrad(() => {
    const w = bilinearWeight(deconv.inChannels, k);
    deconv.weight.copy_(w);
    w.dispose();
    deconv.bias?.zero_();
  });
}
