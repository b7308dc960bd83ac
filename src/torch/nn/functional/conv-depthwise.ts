// F.conv2d's route for widely dilated depthwise convolutions without autograd (DeepLab's separable
// ASPP branches): libtorch 1.13 hands oneDNN's depthwise kernel a padding up to 6 and sends wider
// ones to its slow dilated kernel (2-3 GFLOP/s: 5 ms for a 3x3 at rate 36 on a 32x32 map of 512
// channels; measured, rate 6 0.3 ms and rate 8 4.1 ms), while the sum of one shifted multiply-add
// per tap is memory-bound (0.6 ms at rate 8) and skips the taps that fall wholly in the padding
// (at rate 36 on 32x32, all but the centre: 0.2 ms).
import { isAutocastEnabled, isGradEnabled } from '../../autograd.js';
import type { Tensor } from '../../tensor.js';
import { tidy } from '../../scope.js';

/**
 * The convolution as a sum of shifted products, or null where this route does not apply: it
 * takes groups = in = out channels (weight [C, 1, k, k], k odd), stride 1, dilation d with
 * padding d(k-1)/2 >= 8 on both sides ('same'), on the CPU, with no gradient to record. Under
 * autocast it takes a map already in the low precision (the output of a convolution), and
 * computes in it, as autocast's convolution would.
 */
export function depthwiseDilatedConv2d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  stride: number[],
  padding: number[] | 'same',
  dilation: number[],
  groups: number,
): Tensor | null {
  const x = input.shape;
  const w = weight.shape;
  const [d, k] = [dilation[0]!, w[2]!];
  if (
    !(
      x.length === 4 &&
      groups > 1 &&
      groups === x[1] &&
      w[0] === groups &&
      w[1] === 1 &&
      k === w[3] &&
      k % 2 === 1 &&
      (d * (k - 1)) / 2 >= 8 &&
      dilation[1] === d &&
      stride[0] === 1 &&
      stride[1] === 1 &&
      (padding === 'same' || (padding[0] === (d * (k - 1)) / 2 && padding[1] === (d * (k - 1)) / 2)) &&
      input.device === 'cpu' &&
      weight.device === 'cpu' &&
      (bias == null || bias.device === 'cpu')
    )
  ) {
    return null;
  }
  if (isGradEnabled() && (input.requiresGrad || weight.requiresGrad || bias?.requiresGrad === true)) return null;
  const autocast = isAutocastEnabled('cpu');
  if (autocast ? input.dtype === 'float32' : input.dtype !== weight.dtype) return null;
  if (input.dtype !== 'float32' && input.dtype !== 'bfloat16' && input.dtype !== 'float64') return null;
  const [h, wd] = [x[2]!, x[3]!];
  const r = (k - 1) / 2;
  return tidy(() => {
    // taps[t] is the [1, C, 1, 1] weight of tap t = i * k + j, in the input's dtype.
    const taps = weight
      .to({ dtype: input.dtype })
      .reshape([groups, k * k])
      .t()
      .contiguous();
    const tap = (t: number) => taps.select(0, t).view([1, groups, 1, 1]);
    // The centre tap covers every output pixel: it makes the output, in the input's memory format.
    const y = input.mul(tap(r * k + r));
    if (bias != null) y.add_(bias.to({ dtype: input.dtype }).view([1, groups, 1, 1]));
    for (let i = 0; i < k; i++) {
      const di = (i - r) * d;
      if (Math.abs(di) >= h) continue;
      for (let j = 0; j < k; j++) {
        const dj = (j - r) * d;
        if ((i === r && j === r) || Math.abs(dj) >= wd) continue;
        // Output pixel (p, q) reads input (p + di, q + dj): the rows and columns where both exist.
        const [p0, q0] = [Math.max(0, -di), Math.max(0, -dj)];
        const [rows, cols] = [h - Math.abs(di), wd - Math.abs(dj)];
        y.narrow(2, p0, rows)
          .narrow(3, q0, cols)
          .addcmul_(input.narrow(2, p0 + di, rows).narrow(3, q0 + dj, cols), tap(i * k + j));
      }
    }
    return y;
  });
}
