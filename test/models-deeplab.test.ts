// The dilated-ResNet family in smp's layout and the papers': DeepLabV3, DeepLabV3Plus (smp
// 0.5 names and counts), DeepLab v2 (ResNet-101 + ASPP-L, summed), PSPNet (smp's and the
// paper's with its auxiliary head). torchvision's layouts are in models-torchvision.test.ts.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch, F, type Tensor, type nn } from '../src/index.js';
import '../src/models/encoders/resnet.js';
import { DeepLabV3 } from '../src/models/decoders/deeplabv3/index.js';
import { DeepLabV3Plus } from '../src/models/decoders/deeplabv3plus/index.js';
import { DeepLabV2 } from '../src/models/decoders/deeplabv2/index.js';
import { PSPNet, PSPNetPaper } from '../src/models/decoders/pspnet/index.js';
import { createModel, listModels } from '../src/models/registry.js';
import { assertClose, assertThrows, tensorTest } from './helpers.js';
import { modelHarness } from './model-harness.js';

const shapeOf = (m: nn.Module, key: string): number[] | undefined => {
  const t = m.stateDict()[key];
  return t ? [...t.shape] : undefined;
};

function withModel(build: () => nn.Module, fn: (m: nn.Module) => void): void {
  const m = build();
  try {
    fn(m);
  } finally {
    m.dispose();
  }
}

describe('registry', () => {
  tensorTest('deeplabv2, deeplabv3, deeplabv3plus and pspnet are registered', () => {
    for (const name of ['deeplabv2', 'deeplabv3', 'deeplabv3plus', 'pspnet']) assert.ok(listModels().includes(name), name);
  });
});

// smp 0.5 (commit 5006616), classes 1. smp cannot be installed here: these are the counts of its
// module structure (decoder.py / model.py at that commit: ASPP, SeparableConv2d, PSPModule,
// Conv2dReLU, the heads) rebuilt in PyTorch 1.13 on torchvision's ResNets, keys in the same order.
const SMP_COUNTS: [string, string, number][] = [
  ['deeplabv3', 'resnet18', 15_898_945],
  ['deeplabv3', 'resnet34', 26_007_105],
  ['deeplabv3', 'resnet50', 39_633_729],
  ['deeplabv3plus', 'resnet18', 12_329_297],
  ['deeplabv3plus', 'resnet34', 22_437_457],
  ['deeplabv3plus', 'resnet50', 26_677_585],
  ['pspnet', 'resnet18', 11_329_825],
  ['pspnet', 'resnet34', 21_437_985],
  ['pspnet', 'resnet50', 24_300_993],
];

describe('smp layouts: keys and parameter counts', () => {
  tensorTest("parameter counts equal smp's (resnet18/34, and resnet50 for DeepLabV3: building ResNet-50s is slow)", () => {
    for (const [arch, encoderName, count] of SMP_COUNTS.filter(([a, e]) => e !== 'resnet50' || a === 'deeplabv3')) {
      withModel(
        () => createModel(arch, { encoderName }),
        (m) => assert.equal(m.numParameters(), count, `${arch} / ${encoderName}`),
      );
    }
  });

  tensorTest('DeepLabV3: decoder.aspp.*, decoder.conv, decoder.bn, a 1x1 head (smp 0.5 names)', () => {
    withModel(
      () => new DeepLabV3({ encoderName: 'resnet34' }),
      (m) => {
        const keys = Object.keys(m.stateDict()).filter((k) => !k.startsWith('encoder.'));
        assert.deepEqual(keys.slice(0, 3), [
          'decoder.aspp.convs.0.0.weight',
          'decoder.aspp.convs.0.1.weight',
          'decoder.aspp.convs.0.1.bias',
        ]);
        assert.deepEqual(shapeOf(m, 'decoder.aspp.convs.1.0.weight'), [256, 512, 3, 3]);
        assert.deepEqual(shapeOf(m, 'decoder.aspp.convs.4.1.weight'), [256, 512, 1, 1]);
        assert.deepEqual(shapeOf(m, 'decoder.aspp.project.0.weight'), [256, 1280, 1, 1]);
        assert.deepEqual(shapeOf(m, 'decoder.conv.weight'), [256, 256, 3, 3]);
        assert.deepEqual(keys.slice(-2), ['segmentation_head.0.weight', 'segmentation_head.0.bias']);
        assert.deepEqual(shapeOf(m, 'segmentation_head.0.weight'), [1, 256, 1, 1]);
      },
    );
  });

  tensorTest('DeepLabV3 loads pre-0.5 smp checkpoints (decoder.0/1/2 = aspp/conv/bn), as smp does', () => {
    const a = new DeepLabV3({ encoderName: 'resnet18', classes: 2 });
    const b = new DeepLabV3({ encoderName: 'resnet18', classes: 2 });
    try {
      const legacy: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(a.stateDict())) {
        legacy[k.replace('decoder.aspp.', 'decoder.0.').replace('decoder.conv.', 'decoder.1.').replace('decoder.bn.', 'decoder.2.')] = v;
      }
      assert.ok('decoder.1.weight' in legacy);
      b.loadStateDict(legacy);
      a.eval();
      b.eval();
      torch.tidy(() => {
        const x = torch.randn([1, 3, 64, 64]);
        assert.ok(
          torch.equal(
            torch.noGrad(() => a.forward(x)),
            torch.noGrad(() => b.forward(x)),
          ),
        );
      });
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  tensorTest('DeepLabV3Plus: separable ASPP and decoder, 48-channel block1 on the stride-4 feature', () => {
    withModel(
      () => new DeepLabV3Plus({ encoderName: 'resnet34' }),
      (m) => {
        assert.deepEqual(shapeOf(m, 'decoder.aspp.0.convs.1.0.0.weight'), [512, 1, 3, 3], 'depthwise atrous conv');
        assert.deepEqual(shapeOf(m, 'decoder.aspp.0.convs.1.0.1.weight'), [256, 512, 1, 1], 'pointwise conv');
        assert.deepEqual(shapeOf(m, 'decoder.aspp.1.0.weight'), [256, 1, 3, 3]);
        assert.deepEqual(shapeOf(m, 'decoder.aspp.1.1.weight'), [256, 256, 1, 1]);
        assert.deepEqual(shapeOf(m, 'decoder.block1.0.weight'), [48, 64, 1, 1]);
        assert.deepEqual(shapeOf(m, 'decoder.block2.0.0.weight'), [304, 1, 3, 3]);
        assert.deepEqual(shapeOf(m, 'decoder.block2.0.1.weight'), [256, 304, 1, 1]);
        assert.deepEqual(shapeOf(m, 'segmentation_head.0.weight'), [1, 256, 1, 1]);
        assert.equal((m as DeepLabV3Plus).decoder.up.scaleFactor, 4);
        assert.equal((m as DeepLabV3Plus).divisor, 16);
      },
    );
  });

  tensorTest('PSPNet (smp): depth 3, the 1x1 level has a biased conv and no norm, a 3x3 head', () => {
    withModel(
      () => new PSPNet({ encoderName: 'resnet34' }),
      (m) => {
        assert.deepEqual(shapeOf(m, 'decoder.psp.blocks.0.pool.1.0.weight'), [32, 128, 1, 1]);
        assert.deepEqual(shapeOf(m, 'decoder.psp.blocks.0.pool.1.0.bias'), [32]);
        assert.equal(shapeOf(m, 'decoder.psp.blocks.0.pool.1.1.weight'), undefined);
        assert.equal(shapeOf(m, 'decoder.psp.blocks.1.pool.1.0.bias'), undefined);
        assert.deepEqual(shapeOf(m, 'decoder.psp.blocks.3.pool.1.1.running_var'), [32]);
        assert.deepEqual(shapeOf(m, 'decoder.conv.0.weight'), [512, 256, 1, 1]);
        assert.deepEqual(shapeOf(m, 'segmentation_head.0.weight'), [1, 512, 3, 3]);
        assert.equal((m as PSPNet).divisor, 8);
        // smp builds the whole ResNet whatever the depth, so layer3/4 stay in the state dict.
        assert.ok('encoder.layer4.2.bn2.running_var' in m.stateDict());
      },
    );
    withModel(
      () => new PSPNet({ encoderName: 'resnet18', decoderUseNorm: 'identity' }),
      (m) => {
        assert.deepEqual(shapeOf(m, 'decoder.psp.blocks.1.pool.1.0.bias'), [32]);
        assert.deepEqual(shapeOf(m, 'decoder.conv.0.bias'), [512]);
        assert.equal(m.numParameters(), 11_329_825 + 3 * 32 + 512 - 2 * (3 * 32 + 512));
      },
    );
  });
});

describe('output strides', () => {
  tensorTest('DeepLabV3 at output stride 8 and 16: decoder features at 1/8 and 1/16, head upsampling to match', () => {
    for (const os of [8, 16] as const) {
      withModel(
        () => new DeepLabV3({ encoderName: 'resnet18', encoderOutputStride: os }),
        (m) => {
          const model = m as DeepLabV3;
          model.eval();
          assert.equal(model.divisor, os);
          torch.tidy(() => {
            const f = torch.noGrad(() => model.encoder.forward(torch.randn([1, 3, 64, 64])));
            assert.equal(f[5]!.shape[2], 64 / os);
          });
        },
      );
    }
    withModel(
      () => new DeepLabV3({ encoderName: 'resnet18', encoderDepth: 3, encoderOutputStride: 16 }),
      (m) => {
        assert.equal((m as DeepLabV3).divisor, 8, 'depth 3 ends at stride 8 whatever the dilation');
      },
    );
  });
});

describe('DeepLab v2', () => {
  tensorTest('ResNet-101, 21 classes: 44,048,532 parameters (ResNet-101 without fc + 4 x 3x3 convs 2048 -> 21)', () => {
    withModel(
      () => createModel('deeplabv2', { classes: 21 }),
      (m) => {
        assert.equal(m.numParameters(), 42_500_160 + 4 * (3 * 3 * 2048 * 21 + 21));
        assert.deepEqual(
          Object.keys(m.stateDict()).filter((k) => !k.startsWith('encoder.')),
          [
            'decoder.c0.weight',
            'decoder.c0.bias',
            'decoder.c1.weight',
            'decoder.c1.bias',
            'decoder.c2.weight',
            'decoder.c2.bias',
            'decoder.c3.weight',
            'decoder.c3.bias',
          ],
        );
        const model = m as DeepLabV2;
        assert.deepEqual(
          model.decoder.branches.map((c) => c.dilation[0]),
          [6, 12, 18, 24],
        );
        assert.equal(model.encoder.outputStride, 8);
      },
    );
  });

  tensorTest('the ASPP branches are summed, then resized to the input with corners aligned', () => {
    withModel(
      () => new DeepLabV2({ encoderName: 'resnet18', classes: 2 }),
      (m) => {
        const model = m as DeepLabV2;
        model.eval();
        torch.tidy(() => {
          const x = torch.randn([1, 3, 41, 49]);
          const y = torch.noGrad(() => model.forward(x));
          const f = torch.noGrad(() => model.encoder.forward(x))[5]!;
          const sum = torch.noGrad(() => model.decoder.branches.map((c) => c.forward(f)).reduce((a, b) => a.add(b)));
          assertClose(y, F.interpolate(sum, { size: [41, 49], mode: 'bilinear', alignCorners: true }), 1e-5, 1e-5, 'v2 output');
        });
      },
    );
  });
});

describe('PSPNet (paper variant)', () => {
  tensorTest("names after the authors' semseg code; ResNet-101 / 21 classes: 67,949,930 with aux, 65,584,725 without", () => {
    withModel(
      () => createModel('pspnet', { variant: 'paper', encoderName: 'resnet101', classes: 21 }),
      (m) => {
        assert.ok(m instanceof PSPNetPaper);
        assert.equal(m.numParameters(), 67_949_930);
        const auxCount = m
          .namedParameters()
          .filter(([n]) => n.startsWith('aux.'))
          .reduce((a, [, p]) => a + p.numel, 0);
        assert.equal(m.numParameters() - auxCount, 65_584_725, 'without the aux head');
        assert.deepEqual(shapeOf(m, 'ppm.features.0.1.weight'), [512, 2048, 1, 1]);
        assert.deepEqual(shapeOf(m, 'ppm.features.3.2.running_mean'), [512]);
        assert.deepEqual(shapeOf(m, 'cls.0.weight'), [512, 4096, 3, 3]);
        assert.deepEqual(shapeOf(m, 'cls.4.weight'), [21, 512, 1, 1]);
        assert.deepEqual(shapeOf(m, 'aux.0.weight'), [256, 1024, 3, 3]);
        assert.deepEqual(shapeOf(m, 'aux.4.bias'), [21]);
        assert.equal((m as PSPNetPaper).auxLossWeight, 0.4);
      },
    );
    withModel(
      () => new PSPNetPaper({ encoderName: 'resnet18', classes: 21, aux: false }),
      (m) => {
        assert.equal(Object.keys(m.stateDict()).filter((k) => k.startsWith('aux.')).length, 0, 'aux: false builds no aux head');
      },
    );
  });

  tensorTest('training returns { mask, aux } at the input size; loss() = main + 0.4 aux reaches every parameter', () => {
    withModel(
      () => new PSPNetPaper({ encoderName: 'resnet18', classes: 3 }),
      (m) => {
        const model = m as PSPNetPaper;
        torch.manualSeed(1);
        torch.tidy(() => {
          const x = torch.randn([2, 3, 41, 57]);
          const target = torch.randint(0, 3, [2, 41, 57]);
          const out = model.train().forward(x) as { mask: Tensor; aux: Tensor };
          assert.deepEqual([...out.mask.shape], [2, 3, 41, 57]);
          assert.deepEqual([...out.aux.shape], [2, 3, 41, 57]);
          const ce = (p: Tensor, t: Tensor) => F.crossEntropy(p, t);
          const loss = model.loss(out, target, ce);
          assertClose(loss, ce(out.mask, target).add(ce(out.aux, target).mul(0.4)), 1e-6, 0, 'main + 0.4 aux');
          loss.backward();
          assert.deepEqual(
            model
              .namedParameters()
              .filter(([, p]) => p.grad === null)
              .map(([n]) => n),
            [],
          );
          model.zeroGrad();
          assert.ok(torch.noGrad(() => model.eval().forward(x)) instanceof torch.Tensor, 'eval returns the mask only');
        });
      },
    );
  });
});

describe('option errors name the option, the expected and the received', () => {
  tensorTest('smp models', () => {
    assertThrows(
      () => createModel('deeplabv3', { encoderName: 'resnet18', encoderOutputStride: 32 }),
      RangeError,
      /DeepLabV3: encoderOutputStride must be 8 or 16, got 32/,
    );
    assertThrows(
      () => createModel('deeplabv3', { encoderName: 'resnet18', decoderAtrousRates: [6, 12] }),
      RangeError,
      /decoderAtrousRates must be an array of 3 positive integers, got \[6, 12\]/,
    );
    assertThrows(() => createModel('deeplabv3', { encoderName: 'resnet18', upsampling: 4 }), RangeError, /upsampling must be 8 .*got 4/);
    assertThrows(
      () => createModel('deeplabv3', { encoderName: 'resnet18', decoder_channels: 128 }),
      TypeError,
      /DeepLabV3: unknown option 'decoder_channels' \(known: .*decoderChannels.*\); did you mean 'decoderChannels'\?/,
    );
    assertThrows(
      () => createModel('deeplabv3plus', { encoderName: 'resnet18', encoderDepth: 2 }),
      RangeError,
      /DeepLabV3Plus: encoderDepth must be an integer from 3 to 5, got 2/,
    );
    assertThrows(
      () => createModel('deeplabv3plus', { encoderName: 'resnet18', decoderAsppDropout: 1.5 }),
      RangeError,
      /decoderAsppDropout must be a number from 0 to 1, got 1.5/,
    );
    assertThrows(
      () => createModel('pspnet', { encoderName: 'resnet18', upsampling: 4 }),
      RangeError,
      /PSPNet: upsampling must be 8 .*encoderDepth 3.*got 4/,
    );
    assertThrows(() => createModel('pspnet', { variant: 'caffe' }), TypeError, /PSPNet: variant must be 'smp' or 'paper', got 'caffe'/);
    assertThrows(
      () => createModel('pspnet', { encoderName: 'resnet18', pspUseBatchnorm: 'yes' }),
      TypeError,
      /PSPNet: pspUseBatchnorm must be true, false, .*got 'yes'/,
    );
    assertThrows(
      () => new DeepLabV3({ layout: 'torchvision' }),
      TypeError,
      /DeepLabV3: layout must be 'smp' \(for this class; TorchvisionDeepLabV3 .*\), got 'torchvision'/,
    );
  });

  tensorTest('paper models', () => {
    assertThrows(
      () => createModel('deeplabv2', { encoderName: 'resnet18', encoderDepth: 4 }),
      RangeError,
      /DeepLabV2: encoderDepth must be 5, got 4/,
    );
    assertThrows(
      () => createModel('deeplabv2', { encoderName: 'resnet18', decoderAtrousRates: [6, 0] }),
      RangeError,
      /decoderAtrousRates must be an array of positive integers, got \[6, 0\]/,
    );
    assertThrows(
      () => createModel('pspnet', { variant: 'paper', encoderName: 'resnet18', bins: [1, 2, 3] }),
      RangeError,
      /PSPNetPaper: bins must be a list whose length divides the encoder's 512 channels, got \[1, 2, 3\]/,
    );
    assertThrows(
      () => createModel('pspnet', { variant: 'paper', encoderName: 'resnet18', pspOutChannels: 256 }),
      TypeError,
      /PSPNetPaper: unknown option 'pspOutChannels'/,
    );
  });
});

// CI-sized: the first size trains (batch 2), the last is odd and checks the pad-and-crop / resize.
const SIZES: [number, number][] = [
  [64, 64],
  [41, 57],
];
modelHarness({
  name: 'harness: deeplabv3 / resnet18, output stride 8',
  build: () => createModel('deeplabv3', { encoderName: 'resnet18', classes: 3 }),
  classes: 3,
  sizes: SIZES,
});
modelHarness({
  name: 'harness: deeplabv3 / resnet34, output stride 16, auxParams',
  build: () => createModel('deeplabv3', { encoderName: 'resnet34', encoderOutputStride: 16, classes: 2, auxParams: { classes: 4 } }),
  classes: 2,
  sizes: SIZES,
});
modelHarness({
  name: 'harness: deeplabv3plus / resnet34',
  build: () => createModel('deeplabv3plus', { encoderName: 'resnet34', classes: 2 }),
  classes: 2,
  sizes: SIZES,
});
modelHarness({
  name: "harness: deeplabv2 / resnet18 (resnet101 is the paper's: counted above)",
  build: () => createModel('deeplabv2', { encoderName: 'resnet18', classes: 3 }),
  classes: 3,
  sizes: SIZES,
});
// smp keeps layer3/layer4 at encoderDepth 3 (its state dict has them) but never runs them.
modelHarness({
  name: 'harness: pspnet (smp) / resnet34, 1 band',
  build: () => createModel('pspnet', { encoderName: 'resnet34', classes: 2, inChannels: 1 }),
  inChannels: 1,
  classes: 2,
  sizes: SIZES,
  noGradOk: (n) => /^encoder\.layer[34]\./.test(n),
});
modelHarness({
  name: 'harness: pspnet (paper) / resnet18 with aux',
  build: () => createModel('pspnet', { variant: 'paper', encoderName: 'resnet18', classes: 2 }),
  classes: 2,
  sizes: SIZES,
  noGradOk: (n) => n.startsWith('aux.'),
});
