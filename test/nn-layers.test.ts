// Single nn layers against PyTorch 1.13 (fixtures from scripts/fixtures/make_nn_fixtures.py):
// default initialisation for the same seed, parameter names and shapes, forward values of every
// option PyTorch's layer has, toString() against repr(), and the validation errors. Every test
// runs through tensorTest: it fails if a tensor is left alive.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../src/index.js';
import * as nn from '../src/torch/nn/index.js';
import { tensorTest } from './helpers.js';
import { J, close, exact, fx, seeded } from './nn-fixture.js';

describe('default initialisation per layer (seed 0)', () => {
  const layers: Record<string, () => nn.Module> = {
    conv: () => new nn.Conv2d(3, 8, 3),
    conv_g: () => new nn.Conv2d(6, 4, [3, 5], { stride: 2, groups: 2, bias: false }),
    convt: () => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, groups: 2 }),
    convt_k: () => new nn.ConvTranspose2d(8, 3, [2, 4], { stride: 2, bias: false }),
    linear: () => new nn.Linear(10, 5),
    linear_nb: () => new nn.Linear(7, 3, { bias: false }),
    bn: () => new nn.BatchNorm2d(4),
    gn: () => new nn.GroupNorm(2, 4),
  };
  for (const [name, make] of Object.entries(layers)) {
    tensorTest(`${name}: ${J.layers[name].repr}`, () => {
      using m = seeded(0, make);
      const sd = m.stateDict();
      assert.deepEqual(
        Object.entries(sd).map(([k, t]) => [k, [...t.shape], t.dtype]),
        J.layers[name].keys,
      );
      for (const [k, t] of Object.entries(sd)) exact(t, `init.${name}.${k}`);
      assert.equal(m.toString(), J.layers[name].repr);
      for (const p of m.parameters()) assert.ok(p.requiresGrad && p.isLeaf);
    });
  }
});

describe('layers against PyTorch', () => {
  tensorTest('BatchNorm2d: cumulative average (momentum null), momentum 0.3 without affine, no running stats', () => {
    for (const [name, make] of Object.entries({
      cum: () => new nn.BatchNorm2d(3, { momentum: null }),
      m03_noaffine: () => new nn.BatchNorm2d(3, { momentum: 0.3, affine: false, eps: 1e-3 }),
      notrack: () => new nn.BatchNorm2d(3, { trackRunningStats: false }),
    })) {
      using bn = make();
      assert.equal(bn.toString(), J.bn[name].repr);
      assert.deepEqual(Object.keys(bn.stateDict()), J.bn[name].keys);
      torch.noGrad(() =>
        torch.tidy(() => {
          bn.weight?.copy_(torch.tensor([1.5, -0.5, 2.0]));
          bn.bias?.copy_(torch.tensor([0.1, 0.2, -0.3]));
        }),
      );
      torch.tidy(() => {
        close(bn.forward(fx('bn.x1')), `bn.${name}.train1`);
        close(bn.forward(fx('bn.x2')), `bn.${name}.train2`);
        for (const [k, t] of Object.entries(bn.stateDict())) {
          if (t.dtype === 'int64') exact(t, `bn.${name}.state.${k}`);
          else close(t, `bn.${name}.state.${k}`);
        }
        bn.eval();
        close(bn.forward(fx('bn.x1')), `bn.${name}.eval`);
        if (bn.numBatchesTracked) assert.equal(bn.numBatchesTracked.item(), 2, 'eval does not count batches');
      });
    }
  });

  tensorTest('GroupNorm with and without affine', () => {
    using gn = new nn.GroupNorm(3, 6, { eps: 1e-4 });
    using gnNa = new nn.GroupNorm(2, 6, { affine: false });
    torch.noGrad(() =>
      torch.tidy(() => {
        gn.weight!.copy_(torch.linspace(-1, 2, 6));
        gn.bias!.copy_(torch.linspace(0.5, -0.5, 6));
      }),
    );
    torch.tidy(() => {
      close(gn.forward(fx('gn.x')), 'gn.out');
      close(gnNa.forward(fx('gn.x')), 'gn.noaffine');
    });
    assert.equal(gn.toString(), J.gn.repr);
    assert.equal(gnNa.toString(), J.gn.repr_noaffine);
    assert.deepEqual(Object.keys(gnNa.stateDict()), []);
  });

  tensorTest('Conv2d: same/valid padding, dilation, groups, circular/replicate/reflect padding modes', () => {
    const convs: Record<string, () => nn.Conv2d> = {
      same_dil: () => new nn.Conv2d(4, 6, 3, { padding: 'same', dilation: 2 }),
      valid: () => new nn.Conv2d(4, 2, [2, 3], { padding: 'valid', bias: false }),
      circular: () => new nn.Conv2d(4, 4, 3, { padding: [1, 2], paddingMode: 'circular', groups: 4 }),
      replicate: () => new nn.Conv2d(4, 3, 3, { stride: [2, 1], padding: 1, paddingMode: 'replicate' }),
      reflect_same: () => new nn.Conv2d(4, 3, 4, { padding: 'same', paddingMode: 'reflect' }),
    };
    Object.entries(convs).forEach(([name, make], i) => {
      using c = seeded(10 + i, make);
      assert.equal(c.toString(), J.conv[name], name);
      torch.tidy(() => close(c.forward(fx('conv.x')), `conv.${name}`));
    });
  });

  tensorTest('ConvTranspose2d: outputSize, outputPadding, groups, dilation', () => {
    using ct = seeded(20, () => new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1 }));
    using ct2 = seeded(
      21,
      () => new nn.ConvTranspose2d(4, 6, 3, { stride: [2, 3], padding: [0, 1], outputPadding: [1, 2], groups: 2, dilation: [1, 2] }),
    );
    torch.tidy(() => {
      close(ct.forward(fx('conv.x'), [14, 12]), 'conv.convt_size');
      close(ct.forward(fx('conv.x'), [2, 2, 14, 12]), 'conv.convt_size');
      close(ct.forward(fx('conv.x')), 'conv.convt_default');
      close(ct2.forward(fx('conv.x')), 'conv.convt_full');
    });
    assert.equal(ct.toString(), J.conv.convt);
    assert.equal(ct2.toString(), J.conv.convt_full);
    assert.throws(
      () => ct.forward(fx('conv.x'), [20, 12]),
      /ConvTranspose2d: requested an output size of \[20, 12\], but valid sizes range from \[13, 11\] to \[14, 12\]/,
    );
  });

  tensorTest('MaxPool2d with indices and ceilMode, MaxUnpool2d round trip, AvgPool2d, AdaptiveAvgPool2d', () => {
    const x = fx('pool.x');
    const mp = new nn.MaxPool2d(2, { stride: 2, returnIndices: true, ceilMode: true });
    const mp2 = new nn.MaxPool2d(3, { stride: 2, padding: 1, returnIndices: true });
    const mp3 = new nn.MaxPool2d([2, 3], { dilation: [1, 2] });
    const ap = new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false });
    const ap2 = new nn.AvgPool2d([2, 4], { ceilMode: true, divisorOverride: 3 });
    const aap = new nn.AdaptiveAvgPool2d([3, null]);
    const aap1 = new nn.AdaptiveAvgPool2d(1);
    const unpool = new nn.MaxUnpool2d(2, { stride: 2 });
    torch.tidy(() => {
      const [o, i] = mp.forward(x);
      exact(o, 'pool.max_ceil.out');
      exact(i, 'pool.max_ceil.idx');
      exact(unpool.forward(o, i, x.shape), 'pool.unpool_size');
      const [o2, i2] = mp2.forward(x);
      exact(o2, 'pool.max_pad.out');
      exact(i2, 'pool.max_pad.idx');
      exact(new nn.MaxUnpool2d(3, { stride: 2, padding: 1 }).forward(o2, i2), 'pool.unpool_pad');
      exact(mp3.forward(x), 'pool.max_dil');
      close(ap.forward(x), 'pool.avg');
      close(ap2.forward(x), 'pool.avg_div');
      close(aap.forward(x), 'pool.adaptive');
      close(aap1.forward(x), 'pool.adaptive1');
    });
    const reprs = { max: mp, max2: mp2, max3: mp3, unpool, avg: ap, avg2: ap2, adaptive: aap, adaptive1: aap1 };
    for (const [k, m] of Object.entries(reprs)) assert.equal(m.toString(), J.pool[k], k);
  });

  tensorTest('Upsample: nearest and bilinear by size or scale, alignCorners, bicubic', () => {
    const ups: Record<string, nn.Upsample> = {
      nearest2: new nn.Upsample({ scaleFactor: 2 }),
      nearest_size: new nn.Upsample({ size: [5, 7] }),
      bilinear_ac: new nn.Upsample({ size: [5, 7], mode: 'bilinear', alignCorners: true }),
      bilinear2: new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }),
      bicubic: new nn.Upsample({ scaleFactor: [1.5, 2.5], mode: 'bicubic', alignCorners: false }),
    };
    for (const [k, m] of Object.entries(ups)) {
      torch.tidy(() => close(m.forward(fx('up.x')), `up.${k}`));
      assert.equal(m.toString(), J.up[k], k);
    }
  });

  tensorTest('activations, in place ones overwriting and returning their input', () => {
    const acts: Record<string, nn.Module> = {
      relu: new nn.ReLU(),
      relu_inplace: new nn.ReLU({ inplace: true }),
      relu6: new nn.ReLU6(),
      relu6_inplace: new nn.ReLU6({ inplace: true }),
      leaky: new nn.LeakyReLU(),
      leaky02_inplace: new nn.LeakyReLU({ negativeSlope: 0.2, inplace: true }),
      sigmoid: new nn.Sigmoid(),
      tanh: new nn.Tanh(),
      gelu: new nn.GELU(),
      gelu_tanh: new nn.GELU({ approximate: 'tanh' }),
      silu: new nn.SiLU(),
      silu_inplace: new nn.SiLU({ inplace: true }),
      hardswish: new nn.Hardswish(),
      hardswish_inplace: new nn.Hardswish({ inplace: true }),
      softmax2d: new nn.Softmax2d(),
    };
    for (const [k, m] of Object.entries(acts)) {
      torch.tidy(() => {
        const x = fx('act.x').clone();
        const y = m.forward(x);
        close(y, `act.${k}`);
        assert.equal(y === x, k.endsWith('_inplace'), `${k}: returns its input iff in place`);
      });
      assert.equal(m.toString(), J.act[k], k);
    }
  });

  tensorTest("Dropout and Dropout2d draw PyTorch's mask for the same seed; identity in eval", () => {
    const drops: Record<string, [nn.Module, number[]]> = {
      dropout: [new nn.Dropout({ p: 0.3 }), [4, 8]],
      dropout_inplace: [new nn.Dropout({ p: 0.6, inplace: true }), [3, 5]],
      dropout2d: [new nn.Dropout2d({ p: 0.5 }), [2, 6, 3, 3]],
      dropout2d_inplace: [new nn.Dropout2d({ p: 0.25, inplace: true }), [3, 4, 2, 2]],
    };
    Object.entries(drops).forEach(([k, [m, shape]], i) => {
      torch.tidy(() => {
        const x = torch.ones(shape);
        const y = seeded(30 + i, () => m.forward(x));
        exact(y, `drop.${k}`);
        assert.equal(y === x, k.endsWith('_inplace'));
        m.eval();
        const z = torch.ones(shape);
        exact(m.forward(z), torch.ones(shape), `${k} in eval`);
      });
      assert.equal(m.toString(), J.drop[k], k);
    });
  });

  tensorTest('Linear, Identity, Flatten', () => {
    using lin = new nn.Linear(4, 2);
    using linNb = new nn.Linear(4, 2, { bias: false });
    assert.equal(lin.toString(), J.misc.linear);
    assert.equal(linNb.toString(), J.misc.linear_nb);
    assert.equal(new nn.Flatten().toString(), J.misc.flatten);
    assert.equal(new nn.Flatten({ startDim: 0, endDim: 2 }).toString(), J.misc.flatten2);
    assert.equal(new nn.Identity(54, 'unused').toString(), J.misc.identity);
    torch.tidy(() => {
      const x = torch.randn([2, 3, 4, 5]);
      assert.equal(new nn.Identity().forward(x), x);
      assert.deepEqual([...new nn.Flatten().forward(x).shape], [2, 60]);
      assert.deepEqual([...new nn.Flatten({ startDim: 0, endDim: 2 }).forward(x).shape], [24, 5]);
      const y = lin.forward(torch.ones([3, 4]));
      assert.ok(torch.allclose(y, lin.weight.sum({ dim: 1 }).add(lin.bias!).expand([3, 2])));
    });
  });
});

describe('layer options and validation', () => {
  tensorTest('parameters in another dtype; BatchNorm counts batches with a fixed momentum too', () => {
    using c = new nn.Conv2d(2, 4, 3, { dtype: 'float64' });
    assert.equal(c.weight.dtype, 'float64');
    assert.equal(c.bias!.dtype, 'float64');
    using bn = new nn.BatchNorm2d(2);
    torch.tidy(() => {
      bn.forward(torch.randn([3, 2, 2, 2]));
      bn.forward(torch.randn([3, 2, 2, 2]));
    });
    assert.equal(bn.numBatchesTracked!.item(), 2);
    assert.equal(bn.numBatchesTracked!.dtype, 'int64');
  });

  tensorTest('constructor errors name the layer, the argument and the values', () => {
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [
        () => new nn.Conv2d(6, 8, 3, { groups: 4 }),
        RangeError,
        /^Conv2d: inChannels must be divisible by groups \(inChannels=6, groups=4\)$/,
      ],
      [
        () => new nn.Conv2d(4, 6, 3, { groups: 4 }),
        RangeError,
        /Conv2d: outChannels must be divisible by groups \(outChannels=6, groups=4\)/,
      ],
      [() => new nn.Conv2d(4, 6, 3, { groups: 0 }), RangeError, /Conv2d: groups must be a positive integer, got 0/],
      [
        () => new nn.Conv2d(4, 6, 3, { padding: 'same', stride: 2 }),
        RangeError,
        /padding='same' is not supported for strided convolutions/,
      ],
      [
        () => new nn.Conv2d(4, 6, 3, { padding: 'full' as never }),
        TypeError,
        /Conv2d: padding must be an integer, \[h, w\], 'same' or 'valid', got 'full'/,
      ],
      [
        () => new nn.Conv2d(4, 6, 3, { paddingMode: 'mirror' as never }),
        TypeError,
        /paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'mirror'/,
      ],
      [
        () => new nn.Conv2d(4, 6, [3, 3, 3] as never),
        RangeError,
        /Conv2d: kernelSize must be an integer or an array of 2 positive integers, got \[3, 3, 3\]/,
      ],
      [() => new nn.Conv2d(4, 6, 3, { strides: 2 } as never), TypeError, /Conv2d: unknown option 'strides'/],
      [() => new nn.Conv2d(4.5, 6, 3), RangeError, /Conv2d: inChannels must be a positive integer, got 4\.5/],
      [
        () => new nn.ConvTranspose2d(4, 6, 3, { paddingMode: 'reflect' as never }),
        TypeError,
        /ConvTranspose2d: paddingMode must be 'zeros', got 'reflect'/,
      ],
      [
        () => new nn.Linear(4, 2, { dtype: 'int64' as never }),
        TypeError,
        /Linear: dtype must be one of 'float32', 'float64', 'float16', 'bfloat16', got 'int64'/,
      ],
      [() => new nn.Linear(4, 2, { bias: 1 as never }), TypeError, /Linear: bias must be true or false, got 1/],
      [() => new nn.Conv2d(4, 2, 3, { bias: null as never }), TypeError, /Conv2d: bias must be true or false, got null/],
      [() => new nn.BatchNorm2d(4, { momentum: '0.1' as never }), TypeError, /BatchNorm2d: momentum must be a number, got '0\.1'/],
      [() => new nn.GroupNorm(4, 6), RangeError, /GroupNorm: numChannels must be divisible by numGroups \(numChannels=6, numGroups=4\)/],
      [() => new nn.Dropout({ p: 1.5 }), RangeError, /Dropout: p must be a number from 0 to 1, got 1\.5/],
      [() => new nn.Upsample({ size: 4, scaleFactor: 2 }), TypeError, /Upsample: give exactly one of size and scaleFactor/],
      [
        () => new nn.Upsample({ scaleFactor: 2, alignCorners: true }),
        TypeError,
        /alignCorners only applies to modes 'bilinear' and 'bicubic', not 'nearest'/,
      ],
      [() => new nn.MaxPool2d(0), RangeError, /MaxPool2d: kernelSize must be a positive integer, got 0/],
      [
        () => new nn.AdaptiveAvgPool2d([0, 2]),
        RangeError,
        /AdaptiveAvgPool2d: outputSize must be a positive integer or \[h, w\] of positive integers or nulls, got \[0, 2\]/,
      ],
      [() => new nn.GELU({ approximate: 'fast' as never }), TypeError, /GELU: approximate must be 'none' or 'tanh', got 'fast'/],
      [() => new nn.ReLU({ inplace: 1 } as never), TypeError, /ReLU: inplace must be true or false, got 1/],
    ];
    for (const [fn, kind, re] of cases) {
      assert.throws(fn, (e: unknown) => e instanceof kind && re.test((e as Error).message), String(re));
    }
  });

  tensorTest('forward errors: wrong rank, wrong channels, one value per channel in training', () => {
    using bn = new nn.BatchNorm2d(3);
    using gn = new nn.GroupNorm(1, 3);
    using conv = new nn.Conv2d(3, 2, 1);
    torch.tidy(() => {
      assert.throws(
        () => bn.forward(torch.ones([2, 3, 4])),
        /BatchNorm2d: expected 4-D input \(N, C, H, W\), got 3-D input of shape \[2, 3, 4\]/,
      );
      assert.throws(
        () => bn.forward(torch.ones([1, 3, 1, 1])),
        /expected more than 1 value per channel when training, got input of shape \[1, 3, 1, 1\]/,
      );
      assert.equal(bn.numBatchesTracked!.item(), 1, 'PyTorch counts the batch before the check too');
      assert.throws(
        () => gn.forward(torch.ones([2, 4, 2, 2])),
        /GroupNorm: expected input \(N, 3, \.\.\.\) with 3 channels, got shape \[2, 4, 2, 2\]/,
      );
      assert.throws(() => conv.forward(torch.ones([1, 4, 2, 2])), /F\.conv2d: input has 4 channels/);
      assert.throws(() => new nn.Softmax2d().forward(torch.ones([2, 2])), /Softmax2d: requires a 3-D or 4-D input/);
    });
  });
});

tensorTest('a strict load accepts an older state dict without BatchNorm num_batches_tracked, as PyTorch does', () => {
  const m = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4));
  const dict = { ...m.stateDict() };
  delete dict['1.num_batches_tracked'];
  const r = m.loadStateDict(dict);
  assert.deepEqual(r.missingKeys, []);
  delete dict['1.running_mean'];
  assert.throws(() => m.loadStateDict(dict), /missing keys: 1\.running_mean/);
  m.dispose();
});
