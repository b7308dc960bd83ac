// smp's FPN, Linknet, PAN, MAnet and UnetPlusPlus: the shared harness on small ResNet encoders,
// state-dict keys and shapes against smp's (commit 5006616) module layout, parameter counts,
// option errors.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, type nn } from '../src/index.js';
import '../src/models/encoders/resnet.js';
import '../src/models/decoders/fpn/model.js';
import '../src/models/decoders/linknet/model.js';
import '../src/models/decoders/pan/model.js';
import '../src/models/decoders/manet/model.js';
import '../src/models/decoders/unetplusplus/model.js';
import { createModel, listModels } from '../src/models/registry.js';
import { FPN } from '../src/models/decoders/fpn/model.js';
import { modelHarness } from './model-harness.js';
import { assertThrows, tensorTest } from './helpers.js';

const SIZES: [number, number][] = [
  [64, 64],
  [70, 45],
];
const ARCHS = ['fpn', 'linknet', 'pan', 'manet', 'unetplusplus'] as const;

for (const arch of ARCHS) {
  modelHarness({
    name: `${arch} / resnet18`,
    build: () => createModel(arch, { encoderName: 'resnet18', classes: 2 }),
    classes: 2,
    sizes: SIZES,
  });
}

/** Builds, runs fn, disposes. */
function withModel<T>(arch: string, options: Record<string, unknown>, fn: (m: nn.Module) => T): T {
  const m = createModel(arch, options);
  try {
    return fn(m);
  } finally {
    m.dispose();
  }
}

function shapes(m: nn.Module, prefix = 'decoder.'): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(m.stateDict())) if (k.startsWith(prefix)) out[k] = [...v.shape];
  return out;
}

describe('registry', () => {
  tensorTest('the five architectures are registered under smp-style names', () => {
    for (const a of ARCHS) assert.ok(listModels().includes(a), a);
  });
});

describe('state-dict keys and parameter counts (resnet34, smp defaults, classes 1)', () => {
  // Parameter counts computed from smp's structure at commit 5006616 (resnet34 encoder:
  // 21,284,672 = torchvision's 21,797,672 minus the fc).
  const COUNTS: Record<string, number> = {
    fpn: 23_155_393,
    linknet: 21_771_937,
    pan: 21_475_816,
    manet: 31_783_633,
    unetplusplus: 26_078_609,
  };
  for (const arch of ARCHS) {
    tensorTest(`${arch}: ${COUNTS[arch]!.toLocaleString('en-US')} parameters`, () => {
      withModel(arch, { encoderName: 'resnet34' }, (m) => {
        assert.equal(m.numParameters(), COUNTS[arch]);
        const keys = Object.keys(m.stateDict());
        assert.equal(keys[0], 'encoder.conv1.weight');
        assert.ok(keys.includes('encoder.layer4.2.bn2.num_batches_tracked'));
        assert.deepEqual(keys.slice(-2), ['segmentation_head.0.weight', 'segmentation_head.0.bias']);
      });
    });
  }

  tensorTest('fpn: decoder keys', () => {
    withModel('fpn', { encoderName: 'resnet34' }, (m) => {
      const s = shapes(m);
      assert.deepEqual(s['decoder.p5.weight'], [256, 512, 1, 1]);
      assert.deepEqual(s['decoder.p4.skip_conv.weight'], [256, 256, 1, 1]);
      assert.deepEqual(s['decoder.p2.skip_conv.bias'], [256]);
      assert.deepEqual(s['decoder.seg_blocks.0.block.0.block.0.weight'], [128, 256, 3, 3]);
      assert.deepEqual(s['decoder.seg_blocks.0.block.2.block.1.weight'], [128]);
      assert.deepEqual(s['decoder.seg_blocks.3.block.0.block.1.bias'], [128]);
      assert.equal(s['decoder.seg_blocks.0.block.0.block.0.bias'], undefined, 'Conv3x3GNReLU conv has no bias');
      assert.equal(s['decoder.seg_blocks.3.block.1.block.0.weight'], undefined, 'seg block 3 has one conv');
      assert.equal(Object.keys(s).length, 29);
      assert.deepEqual(shapes(m, 'segmentation_head')['segmentation_head.0.weight'], [1, 128, 1, 1]);
    });
    withModel('fpn', { encoderName: 'resnet34', decoderMergePolicy: 'cat' }, (m) => {
      assert.deepEqual(shapes(m, 'segmentation_head')['segmentation_head.0.weight'], [1, 512, 1, 1]);
    });
  });

  tensorTest('linknet: decoder keys', () => {
    withModel('linknet', { encoderName: 'resnet34' }, (m) => {
      const s = shapes(m);
      assert.deepEqual(s['decoder.blocks.0.block.0.0.weight'], [128, 512, 1, 1]);
      assert.deepEqual(s['decoder.blocks.0.block.0.1.running_var'], [128]);
      assert.deepEqual(s['decoder.blocks.0.block.1.0.weight'], [128, 128, 4, 4]);
      assert.deepEqual(s['decoder.blocks.0.block.1.0.bias'], [128]);
      assert.deepEqual(s['decoder.blocks.0.block.1.1.weight'], [128]);
      assert.deepEqual(s['decoder.blocks.4.block.2.0.weight'], [32, 16, 1, 1]);
      assert.equal(Object.keys(s).length, 5 * 19);
    });
    withModel('linknet', { encoderName: 'resnet34', decoderUseNorm: false }, (m) => {
      const s = shapes(m);
      assert.deepEqual(s['decoder.blocks.0.block.0.0.bias'], [128], 'conv gets a bias without a norm');
      assert.equal(s['decoder.blocks.0.block.1.1.weight'], undefined, 'TransposeX2 without a norm: ConvTranspose2d, ReLU');
      assert.equal(Object.keys(s).length, 5 * 6);
    });
  });

  tensorTest('pan: decoder keys; the last stage is dilated (output stride 16)', () => {
    withModel('pan', { encoderName: 'resnet34' }, (m) => {
      const s = shapes(m);
      assert.deepEqual(s['decoder.fpa.branch1.1.conv.weight'], [32, 512, 1, 1]);
      assert.deepEqual(s['decoder.fpa.mid.0.bn.running_mean'], [32]);
      assert.deepEqual(s['decoder.fpa.down1.1.conv.weight'], [1, 512, 7, 7]);
      assert.deepEqual(s['decoder.fpa.down3.2.conv.weight'], [1, 1, 3, 3]);
      assert.deepEqual(s['decoder.fpa.conv1.conv.weight'], [1, 1, 7, 7]);
      assert.deepEqual(s['decoder.gau3.conv1.1.conv.weight'], [32, 32, 1, 1]);
      assert.deepEqual(s['decoder.gau3.conv2.conv.weight'], [32, 256, 3, 3]);
      assert.deepEqual(s['decoder.gau1.conv2.conv.weight'], [32, 64, 3, 3]);
      assert.equal(Object.keys(s).length, 14 * 7);
      assert.deepEqual(shapes(m, 'segmentation_head')['segmentation_head.0.weight'], [1, 32, 3, 3]);
      const enc = (m as unknown as { encoder: { outputStride: number } }).encoder;
      assert.equal(enc.outputStride, 16);
    });
  });

  tensorTest('manet: decoder keys', () => {
    withModel('manet', { encoderName: 'resnet34' }, (m) => {
      const s = shapes(m);
      assert.deepEqual(s['decoder.center.top_conv.weight'], [64, 512, 1, 1]);
      assert.deepEqual(s['decoder.center.bottom_conv.weight'], [512, 512, 3, 3]);
      assert.deepEqual(s['decoder.center.out_conv.bias'], [512]);
      assert.deepEqual(s['decoder.blocks.0.hl_conv.0.0.weight'], [512, 512, 3, 3]);
      assert.deepEqual(s['decoder.blocks.0.hl_conv.1.0.weight'], [256, 512, 1, 1]);
      assert.deepEqual(s['decoder.blocks.0.SE_ll.1.weight'], [16, 256, 1, 1]);
      assert.deepEqual(s['decoder.blocks.0.SE_hl.3.weight'], [256, 16, 1, 1]);
      assert.deepEqual(s['decoder.blocks.0.conv1.0.weight'], [256, 512, 3, 3]);
      assert.deepEqual(s['decoder.blocks.3.SE_ll.1.weight'], [4, 64, 1, 1]);
      assert.deepEqual(s['decoder.blocks.4.conv1.0.weight'], [16, 32, 3, 3], 'the last block (no skip) is a plain DecoderBlock');
      assert.equal(s['decoder.blocks.4.hl_conv.0.0.weight'], undefined);
    });
  });

  tensorTest('unetplusplus: decoder keys (smp computes the nested channel counts)', () => {
    withModel('unetplusplus', { encoderName: 'resnet34' }, (m) => {
      const s = shapes(m);
      const blocks = new Set(Object.keys(s).map((k) => k.split('.')[2]));
      assert.deepEqual([...blocks], ['x_0_0', 'x_0_1', 'x_1_1', 'x_0_2', 'x_1_2', 'x_2_2', 'x_0_3', 'x_1_3', 'x_2_3', 'x_3_3', 'x_0_4']);
      assert.deepEqual(s['decoder.blocks.x_0_0.conv1.0.weight'], [256, 768, 3, 3]);
      assert.deepEqual(s['decoder.blocks.x_1_1.conv1.0.weight'], [128, 384, 3, 3]);
      assert.deepEqual(s['decoder.blocks.x_0_1.conv1.0.weight'], [128, 512, 3, 3]);
      assert.deepEqual(s['decoder.blocks.x_3_3.conv1.0.weight'], [64, 128, 3, 3]);
      assert.deepEqual(s['decoder.blocks.x_0_3.conv1.0.weight'], [32, 320, 3, 3]);
      assert.deepEqual(s['decoder.blocks.x_0_4.conv2.1.running_var'], [16]);
      assert.equal(s['decoder.blocks.x_0_0.conv1.0.bias'], undefined);
    });
    withModel('unetplusplus', { encoderName: 'resnet34', decoderAttentionType: 'scse' }, (m) => {
      const s = shapes(m);
      assert.deepEqual(s['decoder.blocks.x_0_0.attention1.attention.cSE.1.weight'], [48, 768, 1, 1]);
      assert.deepEqual(s['decoder.blocks.x_0_0.attention1.attention.sSE.0.weight'], [1, 768, 1, 1]);
      assert.deepEqual(s['decoder.blocks.x_0_4.attention2.attention.cSE.3.weight'], [16, 1, 1, 1]);
    });
  });
});

describe('options', () => {
  tensorTest('smp initialisation: decoder conv biases 0, BatchNorm weights 1, head bias 0', () => {
    withModel('linknet', { encoderName: 'resnet18' }, (m) => {
      const sd = m.stateDict();
      torch.tidy(() => {
        assert.equal(sd['decoder.blocks.0.block.0.1.weight']!.eq(1).all().item(), 1);
        assert.equal(sd['segmentation_head.0.bias']!.abs().sum().item(), 0);
      });
    });
  });

  tensorTest('other variants run: FPN cat/bilinear/depth 4, PAN stride 32 and depth 3, UNet++ scse, MAnet depth 4, aux head', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['fpn', { decoderMergePolicy: 'cat', decoderInterpolation: 'bilinear', decoderDropout: 0 }],
      ['fpn', { encoderDepth: 4 }],
      ['pan', { encoderOutputStride: 32 }],
      ['pan', { encoderDepth: 3 }],
      ['unetplusplus', { decoderAttentionType: 'scse', decoderUseNorm: 'identity' }],
      ['manet', { encoderDepth: 4, decoderPabChannels: 16 }],
      ['linknet', { encoderDepth: 3, decoderUseBatchnorm: false }],
    ];
    for (const [arch, o] of cases) {
      withModel(arch, { encoderName: 'resnet18', classes: 3, ...o }, (m) => {
        m.eval();
        torch.tidy(() => {
          const y = torch.noGrad(() => m.forward(torch.randn([1, 3, 70, 45])));
          assert.deepEqual([...y.shape], [1, 3, 70, 45], `${arch} ${JSON.stringify(o)}`);
        });
      });
    }
    withModel('fpn', { encoderName: 'resnet18', auxParams: { classes: 4 } }, (m) => {
      m.eval();
      torch.tidy(() => {
        const out = torch.noGrad(() => m.forward(torch.randn([2, 3, 64, 64])));
        assert.deepEqual([...out.mask.shape], [2, 1, 64, 64]);
        assert.deepEqual([...out.label.shape], [2, 4]);
      });
    });
  });

  tensorTest('errors name the option, what was expected and what came', () => {
    const build = (arch: string, o: Record<string, unknown>) => () => createModel(arch, { encoderName: 'resnet18', ...o }).dispose();
    assertThrows(build('fpn', { decoderChanels: 3 }), TypeError, /FPN: unknown option 'decoderChanels'/, /decoderPyramidChannels/);
    assertThrows(build('fpn', { decoderMergePolicy: 'mul' }), TypeError, /FPN: decoderMergePolicy must be 'add' or 'cat', got 'mul'/);
    assertThrows(
      build('fpn', { decoderSegmentationChannels: 100 }),
      RangeError,
      /decoderSegmentationChannels must be a multiple of 32.*got 100/,
    );
    assertThrows(build('fpn', { encoderDepth: 2 }), RangeError, /FPN: encoderDepth must be an integer from 3 to 5, got 2/);
    assertThrows(build('fpn', { decoderDropout: 2 }), RangeError, /decoderDropout must be a number from 0 to 1, got 2/);
    assertThrows(build('pan', { encoderOutputStride: 8 }), RangeError, /PAN: encoderOutputStride must be 16 or 32, got 8/);
    assertThrows(
      build('manet', { decoderChannels: [64, 32] }),
      RangeError,
      /MAnet: decoderChannels must be an array of 5 positive integers.*got \[64, 32\]/,
    );
    assertThrows(
      build('unetplusplus', { decoderAttentionType: 'cbam' }),
      TypeError,
      /UnetPlusPlus: decoderAttentionType must be null or 'scse', got 'cbam'/,
    );
    assertThrows(
      build('linknet', { decoderUseNorm: 'groupnorm' }),
      TypeError,
      /Linknet: decoderUseNorm must be true, false, 'batchnorm', 'identity', 'inplace', 'layernorm', 'instancenorm' or \{ type, \.\.\.options \}, got 'groupnorm'/,
    );
    assertThrows(
      build('manet', { decoderUseNorm: { type: 'layernorm', momentum: 0.1 } }),
      TypeError,
      /MAnet: decoderUseNorm: unknown option 'momentum' \(known: type, eps, affine\)/,
    );
    assertThrows(build('linknet', { decoderUseNorm: true, decoderUseBatchnorm: true }), TypeError, /not both/);
    assertThrows(build('unetplusplus', { classes: 0 }), RangeError, /classes must be a positive integer, got 0/);
    assertThrows(() => new FPN({ encoderName: 'resnet18', inChannels: 2.5 }), RangeError, /inChannels must be a positive integer, got 2.5/);
  });
});
