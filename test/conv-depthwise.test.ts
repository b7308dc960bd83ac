// F.conv2d's shifted-sum route for widely dilated depthwise convolutions without autograd
// (src/torch/nn/functional/conv-depthwise.ts): equal to libtorch's own convolution (aten::conv2d,
// called directly) to float32 rounding, in NCHW and channels_last, with and without bias, for
// kernels 3 and 5, rates where some taps fall wholly in the padding and where all but the centre
// do, under bfloat16 autocast as autocast's convolution computes it; F.conv2d really takes it
// (its result is not aten's bit for bit) only where it applies; no tensors leak.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch, F, type Tensor } from '../src/index.js';
import { tensorTest } from './helpers.js';

const tidyTest = (name: string, fn: () => void) => tensorTest(name, () => torch.tidy(fn));

/** libtorch's convolution, whatever route F.conv2d would take. */
function aten(x: Tensor, w: Tensor, b: Tensor | null, padding: number, dilation: number, groups: number): Tensor {
  return torch.ops.call('aten::conv2d', x, w, b, [1, 1], [padding, padding], [dilation, dilation], groups) as Tensor;
}

function relL2(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.double().sub(b.double()).norm().item() / b.double().norm().item());
}

interface Case {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  dilation: number;
  bias: boolean;
  channelsLast: boolean;
}

const CASES: Case[] = [
  { n: 1, c: 64, h: 32, w: 32, k: 3, dilation: 12, bias: false, channelsLast: true },
  { n: 2, c: 24, h: 21, w: 30, k: 3, dilation: 8, bias: true, channelsLast: false },
  // Rate 36 on 32x32: every tap but the centre lies in the padding.
  { n: 1, c: 48, h: 32, w: 32, k: 3, dilation: 36, bias: true, channelsLast: true },
  // Rows wholly outside, columns not.
  { n: 3, c: 16, h: 10, w: 40, k: 3, dilation: 12, bias: true, channelsLast: false },
  { n: 1, c: 32, h: 33, w: 29, k: 5, dilation: 6, bias: false, channelsLast: true },
];

function inputs(c: Case) {
  torch.manualSeed(c.c * 100 + c.dilation);
  const x0 = torch.randn([c.n, c.c, c.h, c.w]);
  const x = c.channelsLast ? x0.contiguous({ memoryFormat: 'channelsLast' }) : x0;
  return { x, w: torch.randn([c.c, 1, c.k, c.k]), b: c.bias ? torch.randn([c.c]) : null, p: (c.dilation * (c.k - 1)) / 2 };
}

describe('depthwise dilated conv2d (shifted sums)', () => {
  for (const c of CASES) {
    const label = `${c.n}x${c.c}x${c.h}x${c.w}, ${c.k}x${c.k} rate ${c.dilation}${c.bias ? ', bias' : ''}${c.channelsLast ? ', channels_last' : ''}`;
    tidyTest(`equals libtorch's convolution: ${label}`, () => {
      const { x, w, b, p } = inputs(c);
      const ours = torch.inferenceMode(() => F.conv2d(x, w, { bias: b, padding: p, dilation: c.dilation, groups: c.c }));
      const ref = aten(x, w, b, p, c.dilation, c.c);
      assert.deepEqual(ours.shape, ref.shape);
      const e = relL2(ours, ref);
      assert.ok(e < 1e-6, `relative L2 error ${e}`);
      assert.ok(
        ours.sub(ref).abs().max().item() > 0 || c.dilation * ((c.k - 1) / 2) >= Math.max(c.h, c.w),
        'the shifted-sum route was taken',
      );
      assert.equal(ours.isContiguous({ memoryFormat: 'channelsLast' }), c.channelsLast, 'keeps the memory format');
      assert.equal(ours.isContiguous(), !c.channelsLast);
    });
  }

  tidyTest('under bfloat16 autocast it computes in bfloat16, as autocast sends the convolution', () => {
    const { x, w, b, p } = inputs(CASES[0]!);
    const xb = x.to({ dtype: 'bfloat16' });
    const ours = torch.inferenceMode(() =>
      torch.autocast({ deviceType: 'cpu', dtype: 'bfloat16' }, () => F.conv2d(xb, w, { bias: b, padding: p, dilation: 12, groups: 64 })),
    );
    assert.equal(ours.dtype, 'bfloat16');
    const ref = aten(xb.float(), w.to({ dtype: 'bfloat16' }).float(), b, p, 12, 64);
    assert.ok(relL2(ours.float(), ref) < 1e-2, `relative L2 error ${relL2(ours.float(), ref)}`);
  });

  tidyTest("rates up to 6, strides, gradients and non-depthwise groups stay libtorch's", () => {
    torch.manualSeed(5);
    const x = torch.randn([1, 32, 20, 20]);
    const w = torch.randn([32, 1, 3, 3]);
    const same = (a: Tensor, r: Tensor) => a.sub(r).abs().max().item() === 0;
    torch.inferenceMode(() => {
      assert.ok(same(F.conv2d(x, w, { padding: 6, dilation: 6, groups: 32 }), aten(x, w, null, 6, 6, 32)), 'rate 6');
      const s = torch.ops.call('aten::conv2d', x, w, null, [2, 2], [8, 8], [8, 8], 32) as Tensor;
      assert.ok(same(F.conv2d(x, w, { stride: 2, padding: 8, dilation: 8, groups: 32 }), s), 'stride 2');
      const w2 = torch.randn([32, 2, 3, 3]);
      assert.ok(same(F.conv2d(x, w2, { padding: 8, dilation: 8, groups: 16 }), aten(x, w2, null, 8, 8, 16)), 'two channels per group');
    });
    // With autograd recording, libtorch's convolution and its backward.
    const wg = w.clone().requiresGrad_();
    const y = F.conv2d(x, wg, { padding: 8, dilation: 8, groups: 32 });
    assert.ok(same(y.detach(), aten(x, w, null, 8, 8, 32)));
    y.sum().backward();
    assert.deepEqual(wg.grad!.shape, [32, 1, 3, 3]);
  });
});
