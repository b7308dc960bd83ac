// segkit::conv2d_winograd (native/dnnl_conv.cc), the route F.conv2d takes for float32 3x3
// stride-1 convolutions: forward and all three gradients equal libtorch's direct convolution to
// float32 rounding (Winograd F(4x4, 3x3) reorders the arithmetic: measured relative L2 errors
// 2e-7 to 1.2e-6), in NCHW and channels_last, batched, with and without bias, padding 0 and 1;
// dilated ones as polyphase components; F.conv2d really takes the route (its result is the op's, bit for bit, and not aten's);
// autocast, other dtypes and the switch off hand the work back to libtorch; no tensors leak.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { readFileSync } from 'node:fs';
import { torch, F, type Tensor } from '../src/index.js';
import { assertThrows, tensorTest } from './helpers.js';

const cpuFlags = (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:.*$/m)?.[0] ?? '').split(/\s+/);
const AVX512 = cpuFlags.includes('avx512f') && cpuFlags.includes('avx512bw') && cpuFlags.includes('avx512vl');

/** ||a - b|| / ||b|| in float64. */
function relL2(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.double().sub(b.double()).norm().item() / b.double().norm().item());
}

function withWinograd<T>(on: boolean, fn: () => T): T {
  const was = torch.backends.winograd.enabled;
  torch.backends.winograd.enabled = on;
  try {
    return fn();
  } finally {
    torch.backends.winograd.enabled = was;
  }
}

interface Case {
  n: number;
  c: number;
  k: number;
  h: number;
  w: number;
  padding: number;
  bias: boolean;
  channelsLast: boolean;
  dilation?: number;
}

const CASES: Case[] = [
  { n: 1, c: 64, k: 64, h: 64, w: 64, padding: 1, bias: true, channelsLast: false },
  { n: 3, c: 32, k: 48, h: 23, w: 17, padding: 1, bias: true, channelsLast: false },
  { n: 2, c: 16, k: 32, h: 20, w: 31, padding: 0, bias: false, channelsLast: false },
  { n: 2, c: 48, k: 16, h: 18, w: 18, padding: 1, bias: false, channelsLast: true },
  { n: 4, c: 128, k: 128, h: 8, w: 8, padding: 1, bias: true, channelsLast: true },
  // Dilated: polyphase components, batched.
  { n: 2, c: 32, k: 32, h: 16, w: 12, padding: 2, bias: true, channelsLast: false, dilation: 2 },
  { n: 1, c: 16, k: 32, h: 18, w: 27, padding: 3, bias: false, channelsLast: true, dilation: 3 },
  { n: 3, c: 32, k: 48, h: 12, w: 20, padding: 2, bias: true, channelsLast: true, dilation: 2 },
];

const label = (c: Case) =>
  `${c.n}x${c.c}x${c.h}x${c.w} -> ${c.k}, padding ${c.padding}${c.bias ? ', bias' : ''}${c.channelsLast ? ', channels_last' : ''}`;

function inputs(c: Case) {
  torch.manualSeed(c.n * 1000 + c.c + c.k);
  const x = torch.randn([c.n, c.c, c.h, c.w]);
  const w = torch.randn([c.k, c.c, 3, 3]).mul(1 / Math.sqrt(9 * c.c));
  const b = c.bias ? torch.randn([c.k]) : null;
  const span = 2 * (c.dilation ?? 1);
  const oh = c.h + 2 * c.padding - span;
  const ow = c.w + 2 * c.padding - span;
  const g = torch.randn([c.n, c.k, oh, ow]);
  return { x: c.channelsLast ? x.contiguous({ memoryFormat: 'channelsLast' }) : x, w, b, g };
}

/** Output and gradients (x, w, b) of sum(conv(x) * g). */
function run(c: Case, on: boolean): Tensor[] {
  const { x: x0, w: w0, b: b0, g } = inputs(c);
  return withWinograd(on, () => {
    const x = x0.clone({ memoryFormat: 'preserve' }).requiresGrad_();
    const w = w0.clone().requiresGrad_();
    const b = b0 ? b0.clone().requiresGrad_() : null;
    const y = F.conv2d(x, w, { bias: b, padding: c.padding, dilation: c.dilation ?? 1 });
    y.mul(g).sum().backward();
    return [y.detach(), x.grad!, w.grad!, ...(b ? [b.grad!] : [])];
  });
}

/** A tensorTest whose body's tensors are freed when it returns. */
const tidyTest = (name: string, fn: () => void) => tensorTest(name, () => torch.tidy(fn));

describe('conv2d_winograd', () => {
  tidyTest('is available on an AVX-512 CPU and switched on by default', () => {
    assert.equal(torch.backends.winograd.isAvailable(), AVX512);
    assert.equal(torch.backends.winograd.enabled, process.env.SEGKIT_WINOGRAD !== '0');
  });

  for (const c of CASES) {
    tidyTest(`forward and gradients equal libtorch's convolution: ${label(c)}`, () => {
      const ours = run(c, true);
      const ref = run(c, false);
      const names = ['output', 'grad input', 'grad weight', 'grad bias'];
      ours.forEach((t, i) => {
        assert.deepEqual(t.shape, ref[i]!.shape, names[i]);
        const e = relL2(t, ref[i]!);
        assert.ok(e < 5e-6, `${names[i]}: relative L2 error ${e}`);
      });
      // The output keeps the input's memory format, as aten's convolution does.
      assert.equal(ours[0]!.isContiguous({ memoryFormat: 'channelsLast' }), c.channelsLast);
      assert.equal(ours[1]!.isContiguous({ memoryFormat: 'channelsLast' }), c.channelsLast);
    });
  }

  tidyTest('F.conv2d takes the Winograd route for an eligible convolution, and only when switched on', () => {
    const { x, w, b } = inputs(CASES[0]!);
    const viaOp = torch.inferenceMode(() => torch.ops.call('segkit::conv2d_winograd', x, w, b, [1, 1]) as Tensor);
    const on = torch.inferenceMode(() => withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: 1 })));
    const same = torch.inferenceMode(() => withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: 'same' })));
    const off = torch.inferenceMode(() => withWinograd(false, () => F.conv2d(x, w, { bias: b, padding: 1 })));
    assert.equal(on.sub(viaOp).abs().max().item(), 0);
    assert.equal(same.sub(viaOp).abs().max().item(), 0);
    if (AVX512) assert.ok(on.sub(off).abs().max().item() > 0, 'Winograd rounds differently from the direct convolution');
    assert.ok(relL2(on, off) < 5e-6);
  });

  tidyTest('a dilated convolution takes the polyphase Winograd route', () => {
    const { x, w, b } = inputs(CASES[5]!);
    const on = withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: 2, dilation: 2 }));
    const off = withWinograd(false, () => F.conv2d(x, w, { bias: b, padding: 2, dilation: 2 }));
    if (AVX512) assert.ok(on.sub(off).abs().max().item() > 0);
    assert.ok(relL2(on, off) < 5e-6);
  });

  tidyTest("strided, dilated with other padding or sides, grouped, 1x1, 16-to-16 and odd channel counts stay libtorch's", () => {
    torch.manualSeed(3);
    const x = torch.randn([1, 32, 16, 16]);
    const shapes: [number[], Record<string, unknown>][] = [
      [[32, 32, 3, 3], { stride: 2, padding: 1 }],
      [[32, 32, 3, 3], { dilation: 2, padding: 1 }],
      [[32, 32, 3, 3], { dilation: 3, padding: 3 }],
      [[32, 16, 3, 3], { groups: 2, padding: 1 }],
      [[32, 32, 1, 1], {}],
      [[3, 32, 3, 3], { padding: 1 }],
    ];
    // 16 channels in and out: too small for Winograd's tiles (oneDNN's direct kernel is faster).
    const x16 = torch.randn([1, 16, 16, 16]);
    const w16 = torch.randn([16, 16, 3, 3]);
    const on16 = withWinograd(true, () => F.conv2d(x16, w16, { padding: 1 }));
    const off16 = withWinograd(false, () => F.conv2d(x16, w16, { padding: 1 }));
    assert.equal(on16.sub(off16).abs().max().item(), 0);
    for (const [shape, opts] of shapes) {
      const w = torch.randn(shape);
      const on = withWinograd(true, () => F.conv2d(x, w, opts));
      const off = withWinograd(false, () => F.conv2d(x, w, opts));
      assert.equal(on.sub(off).abs().max().item(), 0, JSON.stringify({ shape, opts }));
    }
  });

  tidyTest('autocast and float64 hand the work back to libtorch', () => {
    const { x, w, b } = inputs(CASES[0]!);
    const bf = torch.autocast({ dtype: 'bfloat16' }, () => withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: 1 })));
    const bfRef = torch.autocast({ dtype: 'bfloat16' }, () => withWinograd(false, () => F.conv2d(x, w, { bias: b, padding: 1 })));
    assert.equal(bf.dtype, 'bfloat16');
    assert.equal(bf.float().sub(bfRef.float()).abs().max().item(), 0);
    const viaOp = torch.ops.call('segkit::conv2d_winograd', x.double(), w.double(), b!.double(), [1, 1]) as Tensor;
    const ref = F.conv2d(x.double(), w.double(), { bias: b!.double(), padding: 1 });
    assert.equal(viaOp.dtype, 'float64');
    assert.equal(viaOp.sub(ref).abs().max().item(), 0);
  });

  tidyTest("no grad and inference mode give the autograd forward's values", () => {
    const { x, w, b } = inputs(CASES[1]!);
    const grad = withWinograd(true, () => F.conv2d(x, w.clone().requiresGrad_(), { bias: b, padding: 1 })).detach();
    const noGrad = torch.noGrad(() => withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: 1 })));
    const inference = torch.inferenceMode(() => withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: 1 })));
    // Batched (autograd) and one sample at a time (inference) run the same kernel per sample.
    assert.ok(relL2(noGrad, grad) < 1e-6);
    assert.equal(inference.sub(noGrad).abs().max().item(), 0);
  });

  for (const c of [
    { n: 2, c: 32, k: 16, h: 262, w: 203, padding: 1, bias: true, channelsLast: false },
    { n: 1, c: 64, k: 64, h: 150, w: 150, padding: 0, bias: false, channelsLast: true },
  ] satisfies Case[]) {
    tidyTest(`without autograd a big map goes in bands of rows, with the batched forward's values: ${label(c)}`, () => {
      const { x, w, b } = inputs(c);
      const banded = torch.inferenceMode(() => withWinograd(true, () => F.conv2d(x, w, { bias: b, padding: c.padding })));
      const whole = withWinograd(true, () => F.conv2d(x, w.clone().requiresGrad_(), { bias: b, padding: c.padding })).detach();
      const ref = withWinograd(false, () => F.conv2d(x, w, { bias: b, padding: c.padding }));
      assert.equal(banded.isContiguous({ memoryFormat: 'channelsLast' }), c.channelsLast);
      assert.ok(relL2(banded, whole) < 1e-6, `banded vs whole map: ${relL2(banded, whole)}`);
      assert.ok(relL2(banded, ref) < 5e-6, `banded vs libtorch: ${relL2(banded, ref)}`);
    });
  }

  tidyTest("a 512x512 map's forward without autograd holds a fraction of its transformed tiles at a time", () => {
    torch.manualSeed(5);
    const x = torch.randn([1, 32, 512, 512]);
    const w = torch.randn([16, 32, 3, 3]);
    const before = torch.cpu.memoryStats().allocatedBytes;
    torch.cpu.resetPeakMemoryStats();
    const y = torch.inferenceMode(() => withWinograd(true, () => F.conv2d(x, w, { padding: 1 })));
    const extra = torch.cpu.memoryStats().peakAllocatedBytes - before;
    const outBytes = 16 * 512 * 512 * 4;
    // In one call: 85 MB of tiles, 32 MB and 16 MB blocked copies of input and output.
    if (AVX512) assert.ok(extra < outBytes + 48 * 2 ** 20, `peak above the output: ${((extra - outBytes) / 2 ** 20).toFixed(1)} MB`);
    const ref = withWinograd(false, () => F.conv2d(x, w, { padding: 1 }));
    assert.ok(relL2(y, ref) < 5e-6);
  });

  tidyTest('backward with createGraph goes on differentiating (a gradient penalty)', () => {
    // || d(sum(conv(x) * g)) / dx ||^2 depends on the weights: its gradient with respect to them
    // needs the convolution's double backward, which libtorch's convolution_backward provides.
    const { x: x0, w: w0, b: b0, g } = inputs(CASES[1]!);
    const penalty = (on: boolean) =>
      withWinograd(on, () => {
        const x = x0.clone().requiresGrad_();
        const w = w0.clone().requiresGrad_();
        F.conv2d(x, w, { bias: b0, padding: 1 }).mul(g).sum().backward(null, { createGraph: true });
        const gx = x.grad!;
        assert.ok(gx.requiresGrad, 'the input gradient is part of a graph');
        w.grad = null;
        gx.square().sum().backward();
        return w.grad!;
      });
    const on = penalty(true);
    const off = penalty(false);
    assert.ok(off.abs().max().item() > 0);
    assert.ok(relL2(on, off) < 1e-5, `relative L2 ${relL2(on, off)}`);
  });

  tidyTest('a change of thread count gets plans made for it, with the same results', () => {
    const { x, w, b } = inputs(CASES[0]!);
    const threads = torch.getNumThreads();
    const before = F.conv2d(x, w, { bias: b, padding: 1 });
    try {
      for (const n of [1, threads + 2]) {
        torch.setNumThreads(n);
        const y = F.conv2d(x, w, { bias: b, padding: 1 });
        assert.ok(relL2(y, before) < 1e-6, `${n} threads`);
      }
    } finally {
      torch.setNumThreads(threads);
    }
  });

  tidyTest('a bad call says what was expected', () => {
    const x = torch.randn([1, 16, 8, 8]);
    assertThrows(
      () => torch.ops.call('segkit::conv2d_winograd', x, torch.randn([16, 8, 3, 3]), null, [1, 1]),
      Error,
      /weight must be \(Cout, 16, 3, 3\)/,
    );
    assertThrows(
      () => torch.ops.call('segkit::conv2d_winograd', x, torch.randn([16, 16, 3, 3]), null, [3, 3]),
      Error,
      /padding must be \[h, w\] in 0\.\.2/,
    );
    assertThrows(
      () => torch.ops.call('segkit::conv2d_winograd', x.flatten(), torch.randn([16, 16, 3, 3]), null, [1, 1]),
      Error,
      /must be 4-D/,
    );
  });

  tidyTest('a U-Net trains the same with and without Winograd, to float32 rounding', () => {
    const step = (on: boolean) =>
      withWinograd(on, () => {
        torch.manualSeed(5);
        const net = new torch.nn.Sequential(
          new torch.nn.Conv2d(16, 32, 3, { padding: 1 }),
          new torch.nn.BatchNorm2d(32),
          new torch.nn.ReLU(),
          new torch.nn.Conv2d(32, 32, 3, { padding: 1 }),
          new torch.nn.ReLU(),
          new torch.nn.Conv2d(32, 1, 1),
        );
        // SGD, not Adam: Adam divides by the gradient's own scale, so it turns rounding-sized differences in near-zero gradients into steps of lr.
        const opt = new torch.optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
        const x = torch.randn([2, 16, 24, 24]);
        const t = torch.rand([2, 1, 24, 24]).gt(0.5).float();
        const losses: number[] = [];
        for (let i = 0; i < 5; i++) {
          torch.tidy(() => {
            opt.zeroGrad();
            const loss = F.binaryCrossEntropyWithLogits(net.forward(x) as Tensor, t);
            loss.backward();
            opt.step();
            losses.push(loss.item());
          });
        }
        const params = net.parameters().map((p) => p.detach().clone());
        torch.dispose([x, t]);
        net.dispose();
        opt.dispose();
        return { losses, params };
      });
    const a = step(true);
    const b = step(false);
    a.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - b.losses[i]!) < 1e-5 * Math.abs(b.losses[i]!) + 1e-6, `loss ${i}: ${l} vs ${b.losses[i]}`),
    );
    a.params.forEach((p, i) => assert.ok(relL2(p, b.params[i]!) < 1e-5, `parameter ${i}`));
    assert.ok(a.losses[4]! < a.losses[0]!, 'the loss falls');
  });
});
