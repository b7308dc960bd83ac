// The MobileNetV2, EfficientNet-B0..B7 and Xception encoders against their reference networks:
// feature shapes at strides 1..32, outChannels, state-dict keys, shapes and parameter counts,
// other input bands, dilation, backward reach, weight files. The reference numbers come from
// the original code built in PyTorch 1.13 with the classifier removed as smp removes it:
// torchvision 0.14's mobilenet_v2, lukemelas/EfficientNet-PyTorch (smp's vendored copy) and
// Cadene's pretrainedmodels Xception (smp's _xception.py, with smp's padding patch). The registry's
// option errors come first. (ResNet and ResNeXt: test/models-encoders.test.ts and the harness.)
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { torch, nn, type Tensor } from '../src/index.js';
import { createEncoder, getEncoderSpec, listEncoders } from '../src/models/encoders/registry.js';
import type { Encoder } from '../src/models/encoders/base.js';
import '../src/models/encoders/mobilenet.js';
import '../src/models/encoders/xception.js';
import { ResNetEncoder } from '../src/models/encoders/resnet.js';
// Imported for its value too, so the family registers itself.
import { EfficientNetEncoder } from '../src/models/encoders/efficientnet/encoder.js';
import { Conv2dStaticSamePadding, MBConvBlock, dropConnect } from '../src/models/encoders/efficientnet/blocks.js';
import { firstConv } from '../src/models/encoders/patch.js';
import { assertClose, assertThrows, tensorTest } from './helpers.js';

const EFFICIENTNETS = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `efficientnet-b${i}`);

/** Builds, runs fn, disposes. */
function withEncoder<T>(name: string, options: Parameters<typeof createEncoder>[1], fn: (e: Encoder) => T): T {
  const e = createEncoder(name, options);
  try {
    return fn(e);
  } finally {
    e.dispose();
  }
}

function featureShapes(e: Encoder, h: number, w: number, batch = 1): number[][] {
  e.eval();
  return torch.tidy(() => torch.noGrad(() => e.forward(torch.randn([batch, e.outChannels[0]!, h, w]))).map((f) => [...f.shape]));
}

/** The shapes a 64x64 input gives at strides 1, 2, 4, 8, 16, 32 (or dilated: the last ones stay at `os`). */
function expectedShapes(outChannels: number[], os = 32, size = 64): number[][] {
  return outChannels.map((c, i) => [1, c, size / Math.min(2 ** i, os), size / Math.min(2 ** i, os)]);
}

function shapesOf(e: Encoder): Record<string, number[]> {
  return Object.fromEntries(Object.entries(e.stateDict()).map(([k, t]) => [k, [...t.shape]]));
}

/** Keys, count, spot-checked shapes and parameter count against the reference network. */
function checkKeys(
  e: Encoder,
  ref: { keys: number; params: number; first: string[]; last: string[]; shapes: Record<string, number[]>; absent?: string[] },
): void {
  const keys = Object.keys(e.stateDict());
  assert.equal(keys.length, ref.keys, 'state-dict key count');
  assert.deepEqual(keys.slice(0, ref.first.length), ref.first, 'first keys');
  assert.deepEqual(keys.slice(-ref.last.length), ref.last, 'last keys');
  const shapes = shapesOf(e);
  for (const [k, s] of Object.entries(ref.shapes)) assert.deepEqual(shapes[k], s, k);
  for (const k of ref.absent ?? []) assert.ok(!(k in shapes), `${k} must not exist`);
  assert.equal(e.numParameters(), ref.params, 'parameter count');
}

/** A training step's backward; returns the parameters left without a gradient. */
function paramsWithoutGrad(e: Encoder, size = 64): string[] {
  e.train();
  torch.tidy(() => {
    const feats = e.forward(torch.randn([2, 3, size, size]));
    feats
      .slice(1)
      .reduce((acc: Tensor | null, f) => (acc ? acc.add(f.pow(2).mean()) : f.pow(2).mean()), null)!
      .backward();
  });
  const missing = e
    .namedParameters()
    .filter(([, p]) => p.grad === null)
    .map(([n]) => n);
  e.zeroGrad();
  return missing;
}

/** inChannels 1 sums the RGB kernels, 4 repeats them scaled by 3/4, on the family's first conv. */
function checkInChannels(name: string, firstConvName: string): void {
  torch.manualSeed(7);
  const rgb = createEncoder(name, { depth: 1 });
  try {
    const [convName, conv] = firstConv(rgb);
    assert.equal(convName, firstConvName);
    for (const bands of [1, 4]) {
      torch.manualSeed(7);
      withEncoder(name, { depth: 1, inChannels: bands }, (e) => {
        const w = (e.namedModules().find(([n]) => n === firstConvName)![1] as nn.Conv2d).weight;
        assert.equal(e.outChannels[0], bands);
        torch.tidy(() => {
          const expected =
            bands === 1 ? conv.weight.sum({ dim: 1, keepdim: true }) : torch.cat([conv.weight, conv.weight.narrow(1, 0, 1)], 1).mul(3 / 4);
          assertClose(w, expected, 1e-6, 1e-6, `${name} ${bands}-band first conv`);
        });
        assert.deepEqual(
          featureShapes(e, 64, 64).map((s) => s[1]),
          [bands, e.outChannels[1]],
        );
      });
    }
  } finally {
    rgb.dispose();
  }
}

/** Saves an encoder's state (altered by `edit`) to a file and loads it through createEncoder. */
function checkWeightFile(name: string, edit: (dict: Record<string, Tensor>) => Record<string, Tensor>): void {
  const dir = mkdtempSync(join(tmpdir(), 'segkit-enc-'));
  const a = createEncoder(name);
  try {
    const file = join(dir, 'weights.safetensors');
    torch.tidy(() => torch.saveSafetensors(file, edit(a.stateDict())));
    withEncoder(name, { weights: file }, (b) => {
      const sb = b.stateDict();
      for (const [k, t] of Object.entries(a.stateDict())) assert.ok(torch.equal(t, sb[k]!), `${k} loaded`);
    });
  } finally {
    a.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('encoder registry', () => {
  tensorTest('the families are registered with their ImageNet files and dilation support', () => {
    const names = listEncoders();
    for (const n of ['mobilenet_v2', 'xception', ...EFFICIENTNETS]) assert.ok(names.includes(n), n);
    assert.equal(getEncoderSpec('mobilenet_v2').imagenet?.fileName, 'mobilenet_v2-b0353104.pth');
    assert.equal(getEncoderSpec('efficientnet-b0').imagenet?.fileName, 'efficientnet-b0-355c32eb.pth');
    assert.equal(getEncoderSpec('efficientnet-b7').imagenet?.fileName, 'efficientnet-b7-dcc49843.pth');
    assert.equal(getEncoderSpec('xception').imagenet?.fileName, 'xception-43020ad28.pth');
    assert.deepEqual(getEncoderSpec('xception').imagenet?.mean, [0.5, 0.5, 0.5]);
    assert.deepEqual(getEncoderSpec('mobilenet_v2').dilations, [16, 8]);
    assert.deepEqual(getEncoderSpec('efficientnet-b3').dilations, [16, 8]);
    assert.deepEqual(getEncoderSpec('xception').dilations, [16, 8]);
  });

  tensorTest('option errors name the call, the option, what it must be and what came', () => {
    assertThrows(
      () => createEncoder('resnet35'),
      TypeError,
      /^createEncoder: name must be one of 'resnet18', .*'resnext50_32x4d', .*, got 'resnet35'$/,
    );
    assertThrows(
      () => createEncoder('resnet18', { in_channels: 4 } as never),
      TypeError,
      /createEncoder\('resnet18'\): unknown option 'in_channels'.*did you mean 'inChannels'/,
    );
    assertThrows(
      () => createEncoder('resnet18', { depth: 2.5 }),
      RangeError,
      /^createEncoder\('resnet18'\): depth must be an integer from 1 to 5, got 2.5$/,
    );
    assertThrows(
      () => createEncoder('resnet18', { inChannels: '3' as never }),
      TypeError,
      /inChannels must be a positive integer, got '3'$/,
    );
    assertThrows(
      () => createEncoder('resnet18', { outputStride: 4 as never }),
      RangeError,
      /outputStride must be one of 32, 16, 8, got 4$/,
    );
    assertThrows(
      () => createEncoder('resnet18', { weights: 1 as never }),
      TypeError,
      /weights must be null, 'imagenet' or a file path, got 1$/,
    );
    withEncoder('resnet18', { depth: 1 }, (e) =>
      assertThrows(() => e.makeDilated(4 as never), RangeError, /^ResNetEncoder.makeDilated: outputStride must be 16 or 8, got 4$/),
    );
    assertThrows(
      () => new ResNetEncoder({ block: 'basic', layers: [2, 2, 2, 2], groups: 32, widthPerGroup: 4 }),
      RangeError,
      /^ResNetEncoder: groups must be 1, got 32$/,
    );
    assertThrows(
      () => new ResNetEncoder({ block: 'bottle', layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64 } as never),
      TypeError,
      /block must be 'basic' or 'bottleneck', got 'bottle'/,
    );
    assertThrows(
      () => new ResNetEncoder({ block: 'bottleneck', layers: [3, 4, 6], groups: 1, widthPerGroup: 64 } as never),
      RangeError,
      /layers must be an array of 4 positive integers \(blocks in layer1..layer4\), got \[3, 4, 6\]/,
    );
  });
});

describe('mobilenet_v2 (torchvision layout)', () => {
  tensorTest('features at strides 1..32 with outChannels (3, 16, 24, 32, 96, 1280); depth 3 stops at stride 8', () => {
    withEncoder('mobilenet_v2', {}, (e) => {
      assert.deepEqual(e.outChannels, [3, 16, 24, 32, 96, 1280]);
      assert.deepEqual(featureShapes(e, 64, 64), expectedShapes(e.outChannels));
    });
    withEncoder('mobilenet_v2', { depth: 3 }, (e) => assert.deepEqual(featureShapes(e, 64, 64), expectedShapes([3, 16, 24, 32])));
  });

  tensorTest('state-dict keys and parameters as torchvision.models.mobilenet_v2 without classifier', () => {
    // torchvision: 3,504,872 parameters, of which classifier.1 (Linear 1280 -> 1000) holds 1,281,000.
    withEncoder('mobilenet_v2', {}, (e) =>
      checkKeys(e, {
        keys: 312,
        params: 3_504_872 - 1_281_000,
        first: [
          'features.0.0.weight',
          'features.0.1.weight',
          'features.0.1.bias',
          'features.0.1.running_mean',
          'features.0.1.running_var',
          'features.0.1.num_batches_tracked',
          'features.1.conv.0.0.weight',
        ],
        last: [
          'features.18.0.weight',
          'features.18.1.weight',
          'features.18.1.bias',
          'features.18.1.running_mean',
          'features.18.1.running_var',
          'features.18.1.num_batches_tracked',
        ],
        shapes: {
          'features.0.0.weight': [32, 3, 3, 3],
          'features.1.conv.0.0.weight': [32, 1, 3, 3],
          'features.1.conv.1.weight': [16, 32, 1, 1],
          'features.2.conv.0.0.weight': [96, 16, 1, 1],
          'features.2.conv.1.0.weight': [96, 1, 3, 3],
          'features.2.conv.2.weight': [24, 96, 1, 1],
          'features.17.conv.2.weight': [320, 960, 1, 1],
          'features.18.0.weight': [1280, 320, 1, 1],
        },
        absent: ['classifier.1.weight', 'features.1.conv.3.weight'],
      }),
    );
  });

  tensorTest('dilation: output stride 16 and 8 keep the last stages at that stride', () => {
    for (const os of [16, 8] as const) {
      withEncoder('mobilenet_v2', { outputStride: os }, (e) => {
        assert.equal(e.outputStride, os);
        assert.deepEqual(featureShapes(e, 64, 64), expectedShapes(e.outChannels, os));
      });
    }
  });

  tensorTest('inChannels 1 and 4 adapt features.0.0', () => checkInChannels('mobilenet_v2', 'features.0.0'));

  tensorTest('backward reaches every parameter', () => {
    withEncoder('mobilenet_v2', {}, (e) => assert.deepEqual(paramsWithoutGrad(e), []));
  });

  tensorTest('a torchvision weight file loads by name, its classifier ignored', () => {
    checkWeightFile('mobilenet_v2', (d) => ({
      ...d,
      'classifier.1.weight': torch.zeros([1000, 1280]),
      'classifier.1.bias': torch.zeros([1000]),
    }));
  });
});

// lukemelas' totals with the classifier (Linear head -> 1000): B0 5,288,548 ... B7 66,347,960,
// which the paper (Tan & Le 2019, Table 2) rounds to 5.3M, 7.8M, 9.2M, 12M, 19M, 30M, 43M, 66M.
const EFFNET_REF: Record<
  string,
  { total: number; paper: number; keys: number; blocks: number; stem: number; head: number; out: number[] }
> = {
  'efficientnet-b0': { total: 5_288_548, paper: 5.3e6, keys: 358, blocks: 16, stem: 32, head: 1280, out: [3, 32, 24, 40, 112, 320] },
  'efficientnet-b1': { total: 7_794_184, paper: 7.8e6, keys: 506, blocks: 23, stem: 32, head: 1280, out: [3, 32, 24, 40, 112, 320] },
  'efficientnet-b2': { total: 9_109_994, paper: 9.2e6, keys: 506, blocks: 23, stem: 32, head: 1408, out: [3, 32, 24, 48, 120, 352] },
  'efficientnet-b3': { total: 12_233_232, paper: 12e6, keys: 572, blocks: 26, stem: 40, head: 1536, out: [3, 40, 32, 48, 136, 384] },
  'efficientnet-b4': { total: 19_341_616, paper: 19e6, keys: 704, blocks: 32, stem: 48, head: 1792, out: [3, 48, 32, 56, 160, 448] },
  'efficientnet-b5': { total: 30_389_784, paper: 30e6, keys: 852, blocks: 39, stem: 48, head: 2048, out: [3, 48, 40, 64, 176, 512] },
  'efficientnet-b6': { total: 43_040_704, paper: 43e6, keys: 984, blocks: 45, stem: 56, head: 2304, out: [3, 56, 40, 72, 200, 576] },
  'efficientnet-b7': { total: 66_347_960, paper: 66e6, keys: 1198, blocks: 55, stem: 64, head: 2560, out: [3, 64, 48, 80, 224, 640] },
};

describe('efficientnet-b0..b7 (lukemelas layout)', () => {
  tensorTest("b0..b7: keys, block counts and parameters as lukemelas without _fc; the paper's totals", () => {
    for (const name of EFFICIENTNETS) {
      const ref = EFFNET_REF[name]!;
      withEncoder(name, {}, (e) => {
        const fc = ref.head * 1000 + 1000;
        const blocks = (e as EfficientNetEncoder).blocks;
        const lastOut = ref.out[5]!;
        checkKeys(e, {
          keys: ref.keys,
          params: ref.total - fc,
          first: [
            '_conv_stem.weight',
            '_bn0.weight',
            '_bn0.bias',
            '_bn0.running_mean',
            '_bn0.running_var',
            '_bn0.num_batches_tracked',
            '_blocks.0._depthwise_conv.weight',
          ],
          last: ['_conv_head.weight', '_bn1.weight', '_bn1.bias', '_bn1.running_mean', '_bn1.running_var', '_bn1.num_batches_tracked'],
          shapes: {
            '_conv_stem.weight': [ref.stem, 3, 3, 3],
            '_conv_head.weight': [ref.head, lastOut, 1, 1],
            [`_blocks.${ref.blocks - 1}._project_conv.weight`]: [lastOut, blocks[ref.blocks - 1]!.args.inputFilters * 6, 1, 1],
          },
          absent: ['_fc.weight', '_blocks.0._expand_conv.weight', `_blocks.${ref.blocks}._bn2.weight`],
        });
        assert.equal(blocks.length, ref.blocks, `${name} blocks`);
        assert.deepEqual(e.outChannels, ref.out, `${name} outChannels`);
        assert.ok(Math.abs(ref.total - ref.paper) / ref.paper < 0.02, `${name}: ${ref.total} vs the paper's ${ref.paper}`);
      });
    }
  });

  tensorTest('b0 block layout: SE squeeze to input/4 with bias, expansion 6, BatchNorm momentum 0.01 and eps 1e-3', () => {
    withEncoder('efficientnet-b0', {}, (e) => {
      const s = shapesOf(e);
      assert.deepEqual(s['_blocks.0._se_reduce.weight'], [8, 32, 1, 1]);
      assert.deepEqual(s['_blocks.0._se_reduce.bias'], [8]);
      assert.deepEqual(s['_blocks.0._se_expand.weight'], [32, 8, 1, 1]);
      assert.deepEqual(s['_blocks.0._project_conv.weight'], [16, 32, 1, 1]);
      assert.deepEqual(s['_blocks.1._expand_conv.weight'], [96, 16, 1, 1]);
      assert.deepEqual(s['_blocks.1._depthwise_conv.weight'], [96, 1, 3, 3]);
      assert.deepEqual(s['_blocks.1._se_reduce.weight'], [4, 96, 1, 1]);
      assert.deepEqual(s['_blocks.3._depthwise_conv.weight'], [144, 1, 5, 5]);
      for (const m of e.modules()) {
        if (m instanceof nn.BatchNorm2d) {
          assert.equal(m.momentum, 1 - 0.99);
          assert.equal(m.eps, 1e-3);
        }
      }
    });
  });

  tensorTest('TF "same" padding is fixed for the nominal resolution (224 for b0, 260 for b2), odd pixel right/bottom', () => {
    withEncoder('efficientnet-b0', {}, (e) => {
      const b = (e as EfficientNetEncoder).blocks;
      const enc = e as EfficientNetEncoder;
      assert.deepEqual(enc.convStem.staticPadding, [0, 1, 0, 1]);
      assert.deepEqual(
        b.map((x) => x.depthwiseConv.staticPadding),
        [
          [1, 1, 1, 1],
          [0, 1, 0, 1],
          [1, 1, 1, 1],
          [1, 2, 1, 2],
          [2, 2, 2, 2],
          [0, 1, 0, 1],
          [1, 1, 1, 1],
          [1, 1, 1, 1],
          [2, 2, 2, 2],
          [2, 2, 2, 2],
          [2, 2, 2, 2],
          [1, 2, 1, 2],
          [2, 2, 2, 2],
          [2, 2, 2, 2],
          [2, 2, 2, 2],
          [1, 1, 1, 1],
        ],
      );
      assert.equal(b[1]!.expandConv!.staticPadding, null);
    });
    // 260 -> 130 -> 65: the stride-2 5x5 conv at 65 pads 2 on both sides.
    withEncoder('efficientnet-b2', {}, (e) =>
      assert.deepEqual((e as EfficientNetEncoder).blocks[5]!.depthwiseConv.staticPadding, [2, 2, 2, 2]),
    );
  });

  tensorTest("b0 and b3: features at strides 1..32 with smp's taps; depth 2 stops after the stride-4 stage", () => {
    for (const name of ['efficientnet-b0', 'efficientnet-b3']) {
      withEncoder(name, {}, (e) => assert.deepEqual(featureShapes(e, 64, 64), expectedShapes(EFFNET_REF[name]!.out), name));
    }
    withEncoder('efficientnet-b0', { depth: 2 }, (e) => assert.deepEqual(featureShapes(e, 64, 64), expectedShapes([3, 32, 24])));
  });

  tensorTest('dilation to output stride 16 and 8 drops the static padding of the dilated blocks', () => {
    for (const os of [16, 8] as const) {
      withEncoder('efficientnet-b0', { outputStride: os }, (e) => {
        assert.deepEqual(featureShapes(e, 64, 64), expectedShapes(e.outChannels, os));
        const b = (e as EfficientNetEncoder).blocks;
        // smp dilates blocks from stage_idxs[1] = 5 (os 8) or stage_idxs[2] = 9 (os 16) on.
        const from = os === 8 ? 5 : 9;
        b.forEach((blk, i) => {
          const c = blk.depthwiseConv;
          if (i >= from) {
            assert.equal(c.staticPadding, null, `block ${i}`);
            assert.deepEqual([c.stride, c.dilation[0]], [[1, 1], os === 8 && i < 9 ? 2 : os === 8 ? 4 : 2], `block ${i}`);
          } else assert.notEqual(c.staticPadding, null, `block ${i}`);
        });
      });
    }
  });

  tensorTest('drop-connect: identity in eval; in training each sample is zeroed or scaled by 1 / (1 - p)', () => {
    torch.tidy(() => {
      const x = torch.ones([64, 2, 3, 3]);
      assert.equal(dropConnect(x, 0.5, false), x);
      const y = dropConnect(x, 0.25, true);
      const perSample = y.amax({ dim: [1, 2, 3] });
      const values = new Set([...perSample.toArray()].map((v) => Number(Number(v).toFixed(5))));
      assert.ok(
        [...values].every((v) => v === 0 || v === Number((1 / 0.75).toFixed(5))),
        `values ${[...values]}`,
      );
      assert.ok(values.size === 2, 'some samples dropped, some kept');
      assertThrows(() => dropConnect(x, 1.5, true), RangeError, /dropConnect: p must be a number from 0 to 1, got 1.5/);
    });
    withEncoder('efficientnet-b0', {}, (e) => {
      const blocks = (e as EfficientNetEncoder).blocks;
      assert.ok(blocks.every((b) => b instanceof MBConvBlock));
      // Skips only where stride 1 and in == out: b0 has 9 such blocks (16 minus 7 stage starts).
      assert.equal(blocks.filter((b) => b.hasSkip).length, 9);
    });
  });

  tensorTest('inChannels 1 and 4 adapt _conv_stem', () => checkInChannels('efficientnet-b0', '_conv_stem'));

  tensorTest("b0 backward reaches every parameter but smp's unused _conv_head/_bn1", () => {
    withEncoder('efficientnet-b0', {}, (e) => assert.deepEqual(paramsWithoutGrad(e), ['_conv_head.weight', '_bn1.weight', '_bn1.bias']));
  });

  tensorTest('a lukemelas weight file loads by name, its _fc ignored', () => {
    checkWeightFile('efficientnet-b0', (d) => ({ ...d, '_fc.weight': torch.zeros([1000, 1280]), '_fc.bias': torch.zeros([1000]) }));
  });

  tensorTest('the padding conv is a Conv2d to the rest of segkit (first-conv patch, dilation); an unknown variant is named', () => {
    withEncoder('efficientnet-b0', { depth: 1 }, (e) => assert.ok(firstConv(e)[1] instanceof Conv2dStaticSamePadding));
    assertThrows(
      () => new EfficientNetEncoder('efficientnet-b9' as never),
      TypeError,
      /EfficientNetEncoder: name must be one of 'efficientnet-b0', .*'efficientnet-b7', got 'efficientnet-b9'/,
    );
  });
});

describe('xception (pretrainedmodels layout, smp padding)', () => {
  tensorTest('features at strides 1..32 with outChannels (3, 64, 128, 256, 728, 2048)', () => {
    withEncoder('xception', {}, (e) => {
      assert.deepEqual(e.outChannels, [3, 64, 128, 256, 728, 2048]);
      assert.deepEqual(featureShapes(e, 64, 64), expectedShapes(e.outChannels));
    });
  });

  tensorTest('state-dict keys and parameters as pretrainedmodels Xception without fc', () => {
    // pretrainedmodels: 22,855,952 parameters, of which fc (Linear 2048 -> 1000) holds 2,049,000.
    withEncoder('xception', {}, (e) => {
      checkKeys(e, {
        keys: 274,
        params: 22_855_952 - 2_049_000,
        first: ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'conv2.weight'],
        last: [
          'conv4.conv1.weight',
          'conv4.pointwise.weight',
          'bn4.weight',
          'bn4.bias',
          'bn4.running_mean',
          'bn4.running_var',
          'bn4.num_batches_tracked',
        ],
        shapes: {
          'conv1.weight': [32, 3, 3, 3],
          'conv2.weight': [64, 32, 3, 3],
          'block1.skip.weight': [128, 64, 1, 1],
          'block1.rep.0.conv1.weight': [64, 1, 3, 3],
          'block1.rep.0.pointwise.weight': [128, 64, 1, 1],
          'block1.rep.1.weight': [128],
          'block1.rep.3.pointwise.weight': [128, 128, 1, 1],
          'block2.rep.1.conv1.weight': [128, 1, 3, 3],
          'block4.rep.7.pointwise.weight': [728, 728, 1, 1],
          'block12.skip.weight': [1024, 728, 1, 1],
          'block12.rep.1.pointwise.weight': [728, 728, 1, 1],
          'block12.rep.4.pointwise.weight': [1024, 728, 1, 1],
          'conv3.pointwise.weight': [1536, 1024, 1, 1],
          'conv4.pointwise.weight': [2048, 1536, 1, 1],
        },
        absent: ['fc.weight', 'block4.skip.weight', 'block1.rep.6.weight'],
      });
      // skip/skipbn come before rep, as the original assigns them first.
      const keys = Object.keys(e.stateDict());
      assert.equal(keys.indexOf('block1.skip.weight'), 12);
      assert.equal(keys.indexOf('block1.rep.0.conv1.weight'), 18);
      assert.equal(keys.indexOf('block12.skip.weight'), 240);
    });
  });

  tensorTest('atrous as in DeepLab v3+ (smp refuses): output stride 16 and 8, same keys', () => {
    const keys32 = torch.tidy(() => {
      const e = createEncoder('xception');
      const k = Object.keys(e.stateDict());
      e.dispose();
      return k;
    });
    for (const [os, deep] of [
      [16, 4],
      [8, 8],
    ] as const) {
      withEncoder('xception', { outputStride: os }, (e) => {
        assert.equal(e.outputStride, os);
        assert.deepEqual(Object.keys(e.stateDict()), keys32, 'dilation changes no key');
        torch.tidy(() => {
          const shapes = e.forward(torch.randn([1, 3, 64, 64])).map((f) => [...f.shape]);
          assert.deepEqual(
            shapes.slice(1).map((s) => s[2]),
            [32, 16, 8, os === 8 ? 8 : 4, deep],
          );
          assert.deepEqual(
            shapes.map((s) => s[1]),
            [3, 64, 128, 256, 728, 2048],
          );
        });
      });
    }
  });

  tensorTest('inChannels 1 and 4 adapt conv1', () => checkInChannels('xception', 'conv1'));

  tensorTest('backward reaches every parameter', () => {
    withEncoder('xception', {}, (e) => assert.deepEqual(paramsWithoutGrad(e), []));
  });

  tensorTest('a weight file with 2-D pointwise kernels and fc/last_linear loads', () => {
    checkWeightFile('xception', (d) => {
      const out: Record<string, Tensor> = { 'last_linear.weight': torch.zeros([1000, 2048]), 'fc.bias': torch.zeros([1000]) };
      for (const [k, t] of Object.entries(d)) out[k] = k.endsWith('pointwise.weight') ? t.flatten(1) : t;
      return out;
    });
  });
});
