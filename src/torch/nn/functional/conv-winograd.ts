// F.conv2d's fast route on the CPU: float32 3x3 stride-1 convolutions through oneDNN's Winograd
// F(4x4, 3x3) kernels (segkit::conv2d_winograd, native/dnnl_conv.cc), forward and backward.
// A dilated one (dilation d, padding d, sides divisible by d: DeepLab's atrous layers) is d*d
// undilated convolutions of the input's polyphase components, which go the same way, batched.
import { native } from '../../native.js';
import { winogradEnabled } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';
import { contiguous, permute, reshape } from '../../ops/shape.js';
import { aten, tid, tidOpt, wrap } from '../../ops/registry.js';
import { tidy } from '../../scope.js';

const CONV2D_WINOGRAD = aten('segkit::conv2d_winograd');

/**
 * The convolution through segkit::conv2d_winograd, or null where it does not apply (not float32
 * on the CPU, not 3x3 stride 1, groups, channel counts oneDNN does not block by 16 or 16 to 16, switched off
 * by backends.winograd.enabled). `padding` is [h, w] or 'same'. Under autocast the op hands the
 * work back to aten::conv2d, so autocast's casts still apply.
 */
export function winogradConv2d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  stride: number[],
  padding: number[] | 'same',
  dilation: number[],
  groups: number,
): Tensor | null {
  const w = weight.shape;
  const x = input.shape;
  const d = dilation[0]!;
  if (
    !(
      groups === 1 &&
      w[2] === 3 &&
      w[3] === 3 &&
      w[0]! % 16 === 0 &&
      w[1]! % 16 === 0 &&
      // 16 in, 16 out: Winograd's tile GEMMs are too small; measured, oneDNN's direct kernel wins.
      w[0]! * w[1]! > 256 &&
      stride[0] === 1 &&
      stride[1] === 1 &&
      dilation[1] === d &&
      x.length === 4 &&
      x[0]! > 0 &&
      winogradEnabled() &&
      input.dtype === 'float32' &&
      weight.dtype === 'float32' &&
      input.device === 'cpu'
    )
  ) {
    return null;
  }
  const p = padding === 'same' ? [d, d] : padding;
  if (d === 1) {
    if (p[0]! > 1 || p[1]! > 1) return null;
    return wrap(
      native.call(CONV2D_WINOGRAD, tid(input, 'F.conv2d', 'input'), tid(weight, 'F.conv2d', 'weight'), tidOpt(bias, 'F.conv2d', 'bias'), p),
    );
  }
  const [n, c, h, wd] = x as [number, number, number, number];
  if (p[0] !== d || p[1] !== d || h % d !== 0 || wd % d !== 0 || h < d || wd < d) return null;
  // Output pixel (a + d*i, b + d*j) only sees input pixels of phase (a, b): each phase is an
  // undilated 3x3 convolution with padding 1 of the (h/d, w/d) image of that phase.
  const [hd, wdd, k] = [h / d, wd / d, w[0]!];
  const cw = tid(weight, 'F.conv2d', 'weight');
  const cb = tidOpt(bias, 'F.conv2d', 'bias');
  if (!input.isContiguous() && input.isContiguous({ memoryFormat: 'channelsLast' })) {
    // In channels_last both copies move whole runs of channels: the phases are gathered as a
    // channels_last batch ordered (sample, a, b), and the output is scattered back the same way.
    return tidy(() => {
      const gathered = contiguous(permute(reshape(input, [n, c, hd, d, wdd, d]), [0, 3, 5, 2, 4, 1]));
      const phases = permute(reshape(gathered, [n * d * d, hd, wdd, c]), [0, 3, 1, 2]);
      const y = wrap(native.call(CONV2D_WINOGRAD, phases.id, cw, cb, [1, 1]));
      const scattered = contiguous(permute(reshape(permute(y, [0, 2, 3, 1]), [n, d, d, hd, wdd, k]), [0, 3, 1, 4, 2, 5]));
      return permute(reshape(scattered, [n, h, wd, k]), [0, 3, 1, 2]);
    });
  }
  return tidy(() => {
    const phases = reshape(permute(reshape(input, [n, c, hd, d, wdd, d]), [0, 3, 5, 1, 2, 4]), [n * d * d, c, hd, wdd]);
    const y = wrap(native.call(CONV2D_WINOGRAD, phases.id, cw, cb, [1, 1]));
    return reshape(permute(reshape(y, [n, d, d, k, hd, wdd]), [0, 3, 4, 1, 5, 2]), [n, k, h, wd]);
  });
}
