// RefineNet (Lin et al. 2017): the shared harness on a small ResNet, its building blocks, its
// state-dict layout and its parameter count against the authors' reference network.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, F, type nn, type Tensor } from '../src/index.js';
import '../src/models/encoders/resnet.js';
import '../src/models/decoders/refinenet/model.js';
import { createModel, listModels } from '../src/models/registry.js';
import { RefineNet } from '../src/models/decoders/refinenet/model.js';
import { ChainedResidualPooling, MultiResolutionFusion, ResidualConvUnit } from '../src/models/decoders/refinenet/decoder.js';
import { modelHarness } from './model-harness.js';
import { assertClose, assertThrows, tensorTest } from './helpers.js';

modelHarness({
  name: 'refinenet / resnet18',
  build: () => createModel('refinenet', { encoderName: 'resnet18', classes: 2 }),
  classes: 2,
  sizes: [
    [64, 64],
    [70, 45],
  ],
});

/**
 * The authors' network (guosheng/refinenet, MatConvNet; released models: 4 pooling blocks)
 * counted over its own layer list: per ResNet output a 3x3 `p_ims1d2_outl{k}_dimred` conv (no
 * bias) and two RCUs `adapt_stage{k}_b1..2` (3x3 conv with bias + 3x3 conv without);
 * per group g a 3x3 `*_joint_varout_dimred` conv (no bias) per input when it has two, the
 * chained pooling `mflow_conv_g{g}_pool1..4` (3x3 conv, no bias each), three RCUs
 * `mflow_conv_g{g}_b1..3`; then dropout and a 3x3 classifier with bias.
 */
function authorsCount(encoder: number[], dims: number[], classes: number, poolBlocks = 4): number {
  const conv = (a: number, b: number) => a * b * 9;
  const rcu = (c: number) => 2 * conv(c, c) + c;
  let total = 0;
  encoder.forEach((e, i) => {
    total += conv(e, dims[i]!) + 2 * rcu(dims[i]!);
  });
  let prev: number | null = null;
  for (const d of dims) {
    let c = d;
    if (prev !== null) {
      c = Math.min(prev, d);
      total += conv(prev, c) + conv(d, c);
    }
    total += poolBlocks * conv(c, c) + 3 * rcu(c);
    prev = c;
  }
  return total + conv(prev!, classes) + classes;
}

describe('RefineNet structure', () => {
  tensorTest('registered as refinenet', () => {
    assert.ok(listModels().includes('refinenet'));
  });

  tensorTest("resnet101, 21 classes: 118,052,437 parameters, the authors' network's count", () => {
    const m = new RefineNet({ encoderName: 'resnet101', classes: 21 });
    try {
      const encoder = m.encoder.numParameters();
      assert.equal(encoder, 42_500_160);
      assert.equal(m.numParameters() - encoder, authorsCount([2048, 1024, 512, 256], [512, 256, 256, 256], 21));
      assert.equal(m.numParameters(), 118_052_437);
      const s = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, [...v.shape]]));
      assert.deepEqual(s['decoder.refinenet4.input_conv.weight'], [512, 2048, 3, 3]);
      assert.deepEqual(s['decoder.refinenet4.rcus.0.1.conv1.bias'], [512]);
      assert.equal(s['decoder.refinenet4.rcus.0.1.conv2.bias'], undefined);
      assert.equal(s['decoder.refinenet4.fusion.convs.0.weight'], undefined, 'one path: no fusion convs');
      assert.deepEqual(s['decoder.refinenet4.crp.convs.3.weight'], [512, 512, 3, 3]);
      assert.deepEqual(s['decoder.refinenet3.rcus.0.0.conv1.weight'], [512, 512, 3, 3], 'the coarser path keeps its 512 channels');
      assert.deepEqual(s['decoder.refinenet3.rcus.1.0.conv1.weight'], [256, 256, 3, 3]);
      assert.deepEqual(s['decoder.refinenet3.fusion.convs.0.weight'], [256, 512, 3, 3]);
      assert.deepEqual(s['decoder.refinenet3.fusion.convs.1.weight'], [256, 256, 3, 3]);
      assert.deepEqual(s['decoder.refinenet1.input_conv.weight'], [256, 256, 3, 3]);
      assert.deepEqual(s['decoder.refinenet1.output_rcu.conv2.weight'], [256, 256, 3, 3]);
      assert.deepEqual(s['decoder.output_rcus.1.conv1.weight'], [256, 256, 3, 3]);
      assert.deepEqual(s['segmentation_head.0.weight'], [21, 256, 3, 3]);
      assert.equal(
        torch.tidy(() => m.stateDict()['decoder.refinenet1.output_rcu.conv1.bias']!.abs().sum().item()),
        0,
      );
    } finally {
      m.dispose();
    }
  });

  tensorTest("resnet34 and the 2-pooling-block variant also match the authors' layer list", () => {
    for (const crp of [4, 2]) {
      const m = new RefineNet({ encoderName: 'resnet34', decoderCrpBlocks: crp });
      try {
        assert.equal(m.numParameters() - m.encoder.numParameters(), authorsCount([512, 256, 128, 64], [512, 256, 256, 256], 1, crp));
        if (crp === 4) assert.equal(m.numParameters(), 86_616_385);
      } finally {
        m.dispose();
      }
    }
  });

  tensorTest('RCU: ReLU-conv-ReLU-conv plus the input (identity when the convs are zero)', () => {
    const rcu = new ResidualConvUnit(4);
    try {
      torch.tidy(() => {
        const x = torch.randn([1, 4, 5, 6]);
        torch.noGrad(() => {
          rcu.conv1.weight.zero_();
          rcu.conv2.weight.zero_();
        });
        assertClose(rcu.forward(x), x, 0, 0, 'zero RCU');
        torch.noGrad(() => rcu.conv2.weight.normal_());
        const w1 = rcu.conv1,
          w2 = rcu.conv2;
        const expected = F.conv2d(F.conv2d(x.relu(), w1.weight, { bias: w1.bias, padding: 1 }).relu(), w2.weight, { padding: 1 }).add(x);
        assertClose(rcu.forward(x), expected, 1e-5, 1e-5, 'RCU');
      });
    } finally {
      rcu.dispose();
    }
  });

  tensorTest('chained residual pooling: relu(x) + conv(pool(relu x)) + conv(pool(conv(pool(relu x))))', () => {
    const crp = new ChainedResidualPooling(3, 2);
    try {
      torch.tidy(() => {
        const x = torch.randn([1, 3, 9, 7]);
        const [c1, c2] = [...crp.convs] as nn.Conv2d[];
        const pool = (t: Tensor) => F.maxPool2d(t, 5, { stride: 1, padding: 2 });
        const r = x.relu();
        const t1 = F.conv2d(pool(r), c1!.weight, { padding: 1 });
        const t2 = F.conv2d(pool(t1), c2!.weight, { padding: 1 });
        assertClose(crp.forward(x), r.add(t1).add(t2), 1e-5, 1e-5, 'CRP');
      });
    } finally {
      crp.dispose();
    }
  });

  tensorTest('multi-resolution fusion: convs to the smallest width, bilinear upsampling to the largest size, sum', () => {
    const mrf = new MultiResolutionFusion([8, 4]);
    try {
      torch.tidy(() => {
        const coarse = torch.randn([2, 8, 3, 2]);
        const fine = torch.randn([2, 4, 5, 4]);
        const [a, b] = [...mrf.convs!] as nn.Conv2d[];
        const up = F.interpolate(F.conv2d(coarse, a!.weight, { padding: 1 }), { size: [5, 4], mode: 'bilinear', alignCorners: false });
        const expected = up.add(F.conv2d(fine, b!.weight, { padding: 1 }));
        const y = mrf.forward([coarse, fine]);
        assert.deepEqual([...y.shape], [2, 4, 5, 4]);
        assertClose(y, expected, 1e-5, 1e-5, 'MRF');
      });
    } finally {
      mrf.dispose();
    }
  });

  tensorTest('cascade variants (encoderDepth 2..4), aux head, dropout on wide features only', () => {
    for (const depth of [2, 3, 4]) {
      const m = new RefineNet({ encoderName: 'resnet18', encoderDepth: depth, classes: 3, decoderChannels: Array(depth - 1).fill(32) });
      try {
        const blocks = Object.keys(m.stateDict()).filter((k) => k.endsWith('.input_conv.weight'));
        assert.equal(blocks.length, depth - 1);
        m.eval();
        torch.tidy(() => {
          const y = torch.noGrad(() => m.forward(torch.randn([1, 3, 70, 45])));
          assert.deepEqual([...y.shape], [1, 3, 70, 45]);
        });
      } finally {
        m.dispose();
      }
    }
    const m = new RefineNet({ encoderName: 'resnet18', decoderChannels: [64, 32, 32, 32], auxParams: { classes: 5 } });
    try {
      m.eval();
      torch.tidy(() => {
        const out = torch.noGrad(() => m.forward(torch.randn([2, 3, 64, 64])));
        assert.deepEqual([...out.mask.shape], [2, 1, 64, 64]);
        assert.deepEqual([...out.label.shape], [2, 5]);
      });
      assert.deepEqual(
        (m.decoder as unknown as { wide: boolean[] }).wide,
        [false, false, false, false],
        'resnet18 has no feature wider than 512',
      );
    } finally {
      m.dispose();
    }
  });

  tensorTest('errors name the option, what was expected and what came', () => {
    const build = (o: Record<string, unknown>) => () => new RefineNet({ encoderName: 'resnet18', ...o }).dispose();
    assertThrows(
      build({ decoderChannels: [256, 256] }),
      RangeError,
      /RefineNet: decoderChannels must be an array of 4 positive integers \(one per RefineNet block: encoderDepth - 1 = 4\), got \[256, 256\]/,
    );
    assertThrows(build({ decoderCrpBlocks: 0 }), RangeError, /decoderCrpBlocks must be a positive integer, got 0/);
    assertThrows(build({ decoderDropout: -1 }), RangeError, /decoderDropout must be a number from 0 to 1, got -1/);
    assertThrows(build({ encoderDepth: 1 }), RangeError, /encoderDepth must be an integer from 2 to 5, got 1/);
    assertThrows(build({ upsampling: 4 }), TypeError, /unknown option 'upsampling'/);
  });
});
