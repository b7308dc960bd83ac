// The VGG family: the vgg16/vgg16_bn encoders, FCN-32s/16s/8s, SegNet, the original U-Net and
// DeepLab v1 (LargeFOV). The shared harness for each, parameter counts against the reference
// nets (computed with torchvision 0.14 and from the Caffe nets' layers), FCN's bilinear
// deconvolutions, SegNet's use of the pooling indices, and the encoders' features.
// VGG is heavy on 2 cores: small inputs, few passes, and FCN's harness runs with fcChannels 256.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, nn, F, type Tensor } from '../src/index.js';
import { createModel, listModels } from '../src/models/registry.js';
import { createEncoder, listEncoders } from '../src/models/encoders/registry.js';
import type { VGGEncoder } from '../src/models/encoders/vgg.js';
import '../src/models/encoders/vgg.js';
import '../src/models/decoders/fcn/model.js';
import '../src/models/decoders/segnet/model.js';
import '../src/models/decoders/deeplabv1/model.js';
import '../src/models/decoders/unet-original/model.js';
import type { FCN } from '../src/models/decoders/fcn/model.js';
import type { SegNet } from '../src/models/decoders/segnet/model.js';
import type { DeepLabV1 } from '../src/models/decoders/deeplabv1/model.js';
import { SegNetDecoder } from '../src/models/decoders/segnet/decoder.js';
import { modelHarness } from './model-harness.js';
import { assertThrows, tensorTest } from './helpers.js';

// The first size is the one trained on (the costly pass), the last the one compared after a reload.
const SIZES: [number, number][] = [
  [32, 32],
  [67, 45],
];

/** FCN zero-initialises its score layers (as the paper); random ones make the harness's comparisons meaningful. */
function withRandomScores(model: nn.Module): nn.Module {
  for (const [name, p] of model.namedParameters()) if (name.includes('.score_')) nn.init.normal_(p, { std: 0.01 });
  return model;
}

describe('VGG encoders', () => {
  // torchvision 0.14: sum(p.numel() for p in vgg16(weights=None).features.parameters()), and the
  // conv/BN indices of its features Sequential.
  const cases = [
    { name: 'vgg16', params: 14_714_688, convs: [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28], bn: false },
    { name: 'vgg16_bn', params: 14_723_136, convs: [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40], bn: true },
  ];
  for (const c of cases) {
    tensorTest(`${c.name}: torchvision's keys and parameter count`, () => {
      assert.ok(listEncoders().includes(c.name));
      const enc = createEncoder(c.name);
      try {
        assert.equal(enc.numParameters(), c.params);
        const expected = c.convs.flatMap((i) => [
          `features.${i}.weight`,
          `features.${i}.bias`,
          ...(c.bn ? ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((k) => `features.${i + 1}.${k}`) : []),
        ]);
        assert.deepEqual(Object.keys(enc.stateDict()), expected);
      } finally {
        enc.dispose();
      }
    });

    tensorTest(`${c.name}: features at strides 1..32 before each pool, outChannels`, () => {
      const enc = createEncoder(c.name);
      enc.eval();
      try {
        assert.deepEqual(enc.outChannels, [64, 128, 256, 512, 512, 512]);
        assert.equal(enc.inChannels, 3);
        torch.tidy(() => {
          const feats = torch.noGrad(() => enc.forward(torch.randn([1, 3, 64, 48])));
          assert.deepEqual(
            feats.map((f) => [...f.shape]),
            [1, 2, 4, 8, 16, 32].map((s, i) => [1, enc.outChannels[i], 64 / s, Math.floor(48 / s)]),
          );
          // The stride-32 feature is pool5: the 2x2 max of the stride-16 one.
          assert.ok(torch.equal(feats[5]!, F.maxPool2d(feats[4]!, 2)));
        });
      } finally {
        enc.dispose();
      }
      const shallow = createEncoder(c.name, { depth: 3, inChannels: 4 });
      try {
        assert.deepEqual(shallow.outChannels, [64, 128, 256, 512]);
        assert.equal(shallow.inChannels, 4);
        torch.tidy(() => {
          const feats = torch.noGrad(() => shallow.forward(torch.randn([1, 4, 32, 32])));
          assert.deepEqual(
            feats.map((f) => [...f.shape]),
            [
              [1, 64, 32, 32],
              [1, 128, 16, 16],
              [1, 256, 8, 8],
              [1, 512, 4, 4],
            ],
          );
        });
      } finally {
        shallow.dispose();
      }
    });
  }

  tensorTest("a torchvision-layout weights file loads by name into DeepLab v1's atrous VGG (the classifier is skipped)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'segkit-vgg-'));
    const source = createEncoder('vgg16');
    let model: nn.Module | null = null;
    try {
      const file = join(dir, 'vgg16.safetensors');
      torch.tidy(() => torch.saveSafetensors(file, { ...source.stateDict(), 'classifier.6.bias': torch.zeros([1000]) }));
      model = createModel('deeplabv1', { encoderWeights: file });
      const loaded = (model as DeepLabV1).encoder.stateDict();
      for (const [k, v] of Object.entries(source.stateDict())) assert.ok(torch.equal(loaded[k]!, v), k);
    } finally {
      source.dispose();
      model?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  tensorTest('VGG encoders refuse dilation', () => {
    assertThrows(() => createEncoder('vgg16', { outputStride: 16 }), RangeError, /outputStride must be 32, got 16/);
    const enc = createEncoder('vgg16_bn', { depth: 1 });
    try {
      assertThrows(() => enc.makeDilated(8), Error, /cannot be dilated to output stride 8: it downsamples by max-pooling/);
    } finally {
      enc.dispose();
    }
  });
});

describe('harness', () => {
  for (const stride of [32, 16, 8]) {
    modelHarness({
      name: `fcn${stride}s / vgg16 (fcChannels 256)`,
      build: () => withRandomScores(createModel(`fcn${stride}s`, { classes: 3, fcChannels: 256 })),
      classes: 3,
      sizes: SIZES,
      batch: 1,
    });
  }
  modelHarness({ name: 'segnet / vgg16_bn', build: () => createModel('segnet', { classes: 3 }), classes: 3, sizes: SIZES });
  modelHarness({
    name: 'deeplabv1 / vgg16, 4 bands, classification head',
    build: () => createModel('deeplabv1', { classes: 2, inChannels: 4, auxParams: { classes: 5 } }),
    classes: 2,
    inChannels: 4,
    sizes: SIZES,
    batch: 1,
  });
  modelHarness({
    name: 'unet-original',
    build: () => createModel('unet-original', { classes: 2, inChannels: 1 }),
    classes: 2,
    inChannels: 1,
    sizes: [
      [32, 32],
      [37, 45],
    ],
  });
});

describe('parameter counts against the reference nets', () => {
  // FCN: the conv weights and biases of fcn.berkeleyvision.org's voc-fcn{32,16,8}s (deconvs
  // without bias); SegNet: the Caffe SegNet (VGG16) for CamVid's 11 classes; DeepLab-LargeFOV's
  // Caffe net; the paper's U-Net (Fig. 1). Computed by hand-built torch 1.13 nets of the same
  // layers, with torchvision's vgg16/vgg16_bn features for the encoders.
  const cases: [string, Record<string, unknown>, number][] = [
    ['fcn32s', { classes: 21 }, 136_152_917],
    ['fcn16s', { classes: 21 }, 134_815_994],
    ['fcn8s', { classes: 21 }, 134_489_759],
    ['segnet', { classes: 11 }, 29_449_355],
    ['deeplabv1', { classes: 21 }, 20_505_429],
    ['unet-original', { classes: 2, inChannels: 1 }, 31_030_658],
  ];
  for (const [name, options, expected] of cases) {
    tensorTest(`${name} ${JSON.stringify(options)}: ${expected.toLocaleString('en-US')}`, () => {
      assert.ok(listModels().includes(name));
      const model = createModel(name, options);
      try {
        assert.equal(model.numParameters(), expected);
      } finally {
        model.dispose();
      }
    });
  }

  tensorTest(
    'state-dict layout: torchvision VGG under encoder., Caffe names under decoder.; U-Net with BatchNorm has milesial keys',
    () => {
      const fcn = createModel('fcn8s', { classes: 2, fcChannels: 8 });
      const unet = createModel('unet-original', { batchNorm: true });
      try {
        const keys = Object.keys(fcn.stateDict());
        assert.equal(keys[0], 'encoder.features.0.weight');
        assert.deepEqual(
          keys.filter((k) => k.startsWith('decoder.')),
          [
            'decoder.fc6.weight',
            'decoder.fc6.bias',
            'decoder.fc7.weight',
            'decoder.fc7.bias',
            'decoder.score_fr.weight',
            'decoder.score_fr.bias',
            'decoder.upscore2.weight',
            'decoder.score_pool4.weight',
            'decoder.score_pool4.bias',
            'decoder.upscore_pool4.weight',
            'decoder.score_pool3.weight',
            'decoder.score_pool3.bias',
            'decoder.upscore8.weight',
          ],
        );
        const u = unet.stateDict();
        for (const k of [
          'encoder.inc.double_conv.0.weight',
          'encoder.inc.double_conv.1.running_mean',
          'encoder.down4.maxpool_conv.1.double_conv.3.weight',
          'decoder.up1.up.weight',
          'decoder.up1.up.bias',
          'decoder.up4.conv.double_conv.4.weight',
          'segmentation_head.0.weight',
        ]) {
          assert.ok(k in u, k);
        }
        assert.ok(!('encoder.inc.double_conv.0.bias' in u), 'no conv bias before BatchNorm');
        torch.tidy(() => {
          const y = unet.forward(torch.randn([2, 3, 21, 19]));
          assert.deepEqual([...y.shape], [2, 1, 21, 19]);
        });
      } finally {
        fcn.dispose();
        unet.dispose();
      }
    },
  );
});

describe('FCN deconvolutions', () => {
  /** The bilinear kernel of a 2s x 2s deconvolution of stride s, written independently of bilinear.ts. */
  const kernel1d = (k: number): number[] => Array.from({ length: k }, (_, i) => 1 - Math.abs(i - (k - 1) / 2) / (k / 2));

  tensorTest('start as per-class bilinear upsampling (fcn.berkeleyvision.org surgery.interp)', () => {
    const classes = 3;
    const model = createModel('fcn8s', { classes, fcChannels: 8 }) as FCN;
    const fcn16 = createModel('fcn16s', { classes: 2, fcChannels: 8 }) as FCN;
    const fcn32 = createModel('fcn32s', { classes: 2, fcChannels: 8 }) as FCN;
    try {
      const decks: [nn.ConvTranspose2d, number][] = [
        [model.decoder.upscore2!, 2],
        [model.decoder.upscorePool4!, 2],
        [model.decoder.upscore, 8],
        [fcn16.decoder.upscore, 16],
        [fcn32.decoder.upscore, 32],
      ];
      for (const [deconv, stride] of decks) {
        const k = 2 * stride;
        assert.deepEqual([...deconv.kernelSize], [k, k]);
        assert.deepEqual([...deconv.stride], [stride, stride]);
        assert.equal(deconv.bias, null);
        const c = deconv.inChannels;
        const k1 = kernel1d(k);
        const expected = new Float32Array(c * c * k * k);
        for (let i = 0; i < c; i++)
          for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) expected[((i * c + i) * k + y) * k + x] = k1[y]! * k1[x]!;
        torch.tidy(() => assert.ok(torch.equal(deconv.weight, torch.tensor(expected, { shape: [c, c, k, k] })), `upscore x${stride}`));
      }
      // Padding s/2 makes each one half-pixel-aligned bilinear interpolation: equal to F.interpolate away from the border.
      torch.tidy(() => {
        const x = torch.randn([1, classes, 5, 6]);
        for (const [deconv, stride] of decks.slice(0, 3)) {
          const y = torch.noGrad(() => deconv.forward(x));
          const ref = F.interpolate(x, { scaleFactor: stride, mode: 'bilinear', alignCorners: false });
          const b = stride / 2;
          const inner = (t: Tensor) => t.narrow(2, b, t.shape[2]! - 2 * b).narrow(3, b, t.shape[3]! - 2 * b);
          assert.deepEqual([...y.shape], [1, classes, 5 * stride, 6 * stride]);
          assert.ok(inner(y).sub(inner(ref)).abs().max().item() < 1e-5, `upscore x${stride} interpolates bilinearly`);
        }
      });
    } finally {
      model.dispose();
      fcn16.dispose();
      fcn32.dispose();
    }
  });

  tensorTest('score layers start at zero, so FCN starts from all-zero logits', () => {
    const model = createModel('fcn16s', { classes: 2, fcChannels: 8 });
    model.eval();
    try {
      torch.tidy(() => {
        const y = torch.noGrad(() => model.forward(torch.randn([1, 3, 33, 40])));
        assert.equal(y.abs().max().item(), 0);
      });
    } finally {
      model.dispose();
    }
  });
});

describe('SegNet', () => {
  tensorTest('the decoder unpools each stage to the argmax positions of its encoder pool', () => {
    const decoder = new SegNetDecoder();
    decoder.eval();
    try {
      torch.tidy(() => {
        // Positive uniform features have no ties, so each 2x2 window has one argmax.
        const feats = [64, 128, 256, 512, 512].map((c, i) => torch.rand([1, c, 32 >> i, 32 >> i]).add(0.1));
        feats.push(F.maxPool2d(feats[4]!, 2));
        const seen: [Tensor, Tensor][] = [];
        const unpool = decoder.unpool;
        const original = unpool.forward.bind(unpool);
        unpool.forward = (x: Tensor, indices: Tensor, size?: readonly number[]) => {
          const y = original(x, indices, size);
          seen.push([x, y]);
          return y;
        };
        torch.noGrad(() => decoder.forward(feats));
        assert.equal(seen.length, 5);
        seen.forEach(([x, y], i) => {
          const skip = feats[4 - i]!;
          const up = (t: Tensor) => F.interpolate(t, { scaleFactor: 2, mode: 'nearest' });
          const isMax = skip.eq(up(F.maxPool2d(skip, 2)));
          assert.ok(torch.equal(y, up(x).mul(isMax)), `stage ${i}: values at the max positions, zeros elsewhere`);
        });
        // The first stage's values are pool5's: unpooling restores the maxima where they were.
        assert.ok(torch.equal(seen[0]![1], feats[4]!.mul(feats[4]!.eq(F.interpolate(feats[5]!, { scaleFactor: 2, mode: 'nearest' })))));
      });
    } finally {
      decoder.dispose();
    }
  });

  tensorTest('in the model, unpooled maps are non-zero only at the maxima of the encoder features', () => {
    const model = createModel('segnet', { classes: 2 }) as SegNet;
    model.eval();
    try {
      torch.tidy(() => {
        let feats: Tensor[] = [];
        const encoder = model.encoder;
        const encode = encoder.forward.bind(encoder);
        // The model's forward runs in its own tidy: keep what the spies capture.
        encoder.forward = (x: Tensor) => (feats = torch.keep(encode(x)));
        const unpooled: Tensor[] = [];
        const unpool = model.decoder.unpool;
        const original = unpool.forward.bind(unpool);
        unpool.forward = (x: Tensor, indices: Tensor, size?: readonly number[]) => {
          const y = original(x, indices, size);
          unpooled.push(torch.keep(y));
          return y;
        };
        torch.noGrad(() => model.forward(torch.randn([1, 3, 64, 64])));
        unpooled.forEach((y, i) => {
          const skip = feats[4 - i]!;
          assert.deepEqual([...y.shape], [...skip.shape]);
          const isMax = skip.eq(F.interpolate(F.maxPool2d(skip, 2), { scaleFactor: 2, mode: 'nearest' }));
          assert.equal(y.ne(0).logicalAnd(isMax.logicalNot()).sum().item(), 0, `stage ${i}: nothing off the maxima`);
          assert.ok(F.avgPool2d(y.ne(0).float(), 2).mul(4).max().item() <= 1, `stage ${i}: at most one value per window`);
        });
        torch.dispose([feats, unpooled]);
      });
    } finally {
      model.dispose();
    }
  });
});

describe('DeepLab v1', () => {
  tensorTest('atrous VGG16: 3x3 pools, pool4/pool5 at stride 1, conv5 dilated 2, output stride 8', () => {
    const model = createModel('deeplabv1', { classes: 2 }) as DeepLabV1;
    model.eval();
    try {
      const enc: VGGEncoder = model.encoder;
      assert.equal(enc.outputStride, 8);
      assert.equal(model.divisor, 8);
      const pools = enc.features.children().filter((m): m is nn.MaxPool2d => m instanceof nn.MaxPool2d);
      assert.deepEqual(
        pools.map((p) => [p.kernelSize, p.stride, p.padding]),
        [
          [3, 2, 1],
          [3, 2, 1],
          [3, 2, 1],
          [3, 1, 1],
          [3, 1, 1],
        ],
      );
      const convs = enc.features.children().filter((m): m is nn.Conv2d => m instanceof nn.Conv2d);
      assert.deepEqual(
        convs.map((c) => c.dilation[0]),
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2],
      );
      assert.deepEqual([...model.decoder.fc6.dilation], [12, 12]);
      assert.equal(model.decoder.fc6.outChannels, 1024);
      torch.tidy(() => {
        const feats = torch.noGrad(() => enc.forward(torch.randn([1, 3, 64, 64])));
        assert.deepEqual(
          feats.map((f) => f.shape[2]),
          [64, 32, 16, 8, 8, 8],
        );
      });
    } finally {
      model.dispose();
    }
  });
});

describe('options', () => {
  tensorTest('the paper fixes the encoder: other names, depths and unknown options are refused by name', () => {
    assertThrows(() => createModel('fcn8s', { encoderName: 'resnet34' }), TypeError, /FCN8s: encoderName must be 'vgg16', got 'resnet34'/);
    assertThrows(() => createModel('segnet', { encoderName: 'vgg16' }), TypeError, /SegNet: encoderName must be 'vgg16_bn', got 'vgg16'/);
    assertThrows(() => createModel('deeplabv1', { encoderDepth: 4 }), RangeError, /DeepLabV1: encoderDepth must be 5, got 4/);
    assertThrows(
      () => createModel('unet-original', { encoderName: 'resnet34' }),
      TypeError,
      /UNetOriginal: unknown option 'encoderName' \(.*own contracting path/,
    );
    assertThrows(() => createModel('fcn32s', { classes: 0 }), RangeError, /FCN32s: classes must be a positive integer, got 0/);
    assertThrows(() => createModel('fcn16s', { fcChannels: 1.5 }), RangeError, /FCN16s: fcChannels must be a positive integer, got 1.5/);
    assertThrows(() => createModel('segnet', { decoderChannels: [16] }), TypeError, /SegNet: unknown option 'decoderChannels' \(known: /);
    assertThrows(
      () => createModel('unet-original', { dropout: 1.5 }),
      RangeError,
      /UNetOriginal: dropout must be a number from 0 to 1, got 1.5/,
    );
    assertThrows(
      () => createModel('unet-original', { batchNorm: 'yes' }),
      TypeError,
      /UNetOriginal: batchNorm must be true or false, got 'yes'/,
    );
    // The defaults the paper fixes are accepted when spelled out.
    const m = createModel('fcn32s', { encoderName: 'vgg16', encoderDepth: 5, encoderWeights: null, classes: 2, fcChannels: 4 });
    m.dispose();
  });

  tensorTest('the wrong number of input bands is an error naming inChannels', () => {
    const model = createModel('segnet', { inChannels: 1 });
    try {
      torch.tidy(() => assertThrows(() => model.forward(torch.randn([1, 3, 32, 32])), RangeError, /input has 3 channels .* inChannels=1/));
    } finally {
      model.dispose();
    }
  });
});
