// smp's Unet: state-dict keys and parameter count identical to smp's, output equal to smp's for
// the same weights (test/fixtures/smp-unet-resnet34, filled by the rule in its README), the
// shared model harness over the options, encoder weights from local files, and error messages.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, before, after } from 'node:test';
import { torch, createModel, createEncoder, listModels, type SegmentationModel, type Tensor } from '../src/index.js';
import { Unet } from '../src/models/decoders/unet/model.js';
import { FIXTURES, maxAbsDiff, tensorTest, assertThrows } from './helpers.js';
import { fillByRule, ruleUniforms, ruleValue } from './fill-rule.js';
import { modelHarness } from './model-harness.js';

const FIXTURE = join(FIXTURES, 'smp-unet-resnet34');
const keysJson = JSON.parse(readFileSync(join(FIXTURE, 'unet-resnet34.keys.json'), 'utf8')) as {
  keys_in_state_dict_order: [string, number[], string][];
  params: number;
  spot_checks: Record<string, [number, number]>;
};

const smpUnet = () => createModel('unet', { encoderName: 'resnet34', classes: 1 }) as Unet;
const sizes: [number, number][] = [
  [64, 64],
  [70, 45],
  [33, 97],
];

describe('smp parity: Unet(resnet34, classes=1)', () => {
  tensorTest("state-dict keys, order, shapes and dtypes equal smp's; same parameter count", () => {
    const model = smpUnet();
    try {
      const ours = Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype]);
      assert.deepEqual(ours, keysJson.keys_in_state_dict_order);
      assert.equal(model.numParameters(), keysJson.params);
      assert.equal(keysJson.params, 24_436_369);
    } finally {
      model.dispose();
    }
  });

  tensorTest('the fill rule reproduces the README spot checks', () => {
    const shapes = new Map(keysJson.keys_in_state_dict_order.map(([k, s]) => [k, s]));
    for (const [name, [first, last]] of Object.entries(keysJson.spot_checks)) {
      const v = torch.tidy(() => ruleValue(name, shapes.get(name)!).flatten().toArray() as Float32Array);
      assert.equal(v[0], Math.fround(first), `${name}[0]`);
      assert.equal(v[v.length - 1], Math.fround(last), `${name}[-1]`);
    }
  });

  tensorTest("output equals smp's (float64 reference) within 1e-5 in eval mode", () => {
    const model = smpUnet();
    const io = torch.loadSafetensors(join(FIXTURE, 'unet-resnet34.io.safetensors'));
    try {
      fillByRule(model);
      torch.tidy(() => {
        const rule = torch.tensor(
          Float32Array.from(ruleUniforms('input', 3 * 256 * 256), (u) => 2 * u - 1),
          { shape: [1, 3, 256, 256] },
        );
        assert.ok(torch.equal(rule, io.input!), 'the input follows the rule too');
        const y = model.predict(io.input!);
        const err = maxAbsDiff(y, io.output_f64!);
        assert.ok(err <= 1e-5, `max |segkit - smp float64| = ${err}`);
        assert.ok(maxAbsDiff(y, io.output!) <= 1e-5, "and smp's float32 output");
      });
    } finally {
      model.dispose();
      torch.dispose(io);
    }
  });
});

modelHarness({ name: 'unet / resnet34', build: smpUnet, classes: 1, sizes });
modelHarness({
  name: 'unet / resnet18, scse attention, 3 classes',
  build: () => new Unet({ encoderName: 'resnet18', decoderAttentionType: 'scse', classes: 3 }),
  classes: 3,
  sizes,
  // smp registers attention1 on the last block too, but it has no skip to attend to.
  noGradOk: (n) => n.startsWith('decoder.blocks.4.attention1.'),
});
modelHarness({
  name: 'unet / resnet18, encoderDepth 4',
  build: () => new Unet({ encoderName: 'resnet18', encoderDepth: 4, classes: 2 }),
  classes: 2,
  sizes: [
    [64, 64],
    [70, 45],
  ],
  // layer4 is built (smp keeps torchvision's whole ResNet) but not run at depth 4.
  noGradOk: (n) => n.startsWith('encoder.layer4.'),
});
modelHarness({
  name: 'unet / resnet18, inChannels 1',
  build: () => new Unet({ encoderName: 'resnet18', inChannels: 1 }),
  inChannels: 1,
  classes: 1,
  sizes: [
    [64, 64],
    [45, 70],
  ],
});
modelHarness({
  name: 'unet / resnet18, inChannels 4',
  build: () => new Unet({ encoderName: 'resnet18', inChannels: 4 }),
  inChannels: 4,
  classes: 1,
  sizes: [
    [64, 64],
    [45, 70],
  ],
});
modelHarness({
  name: 'unet / resnet18, auxParams',
  build: () => new Unet({ encoderName: 'resnet18', classes: 2, auxParams: { classes: 5, dropout: 0.2 } }),
  classes: 2,
  sizes: [
    [64, 64],
    [70, 45],
  ],
});
modelHarness({
  name: 'unet / resnet18, sigmoid',
  build: () => new Unet({ encoderName: 'resnet18', activation: 'sigmoid' }),
  classes: 1,
  sizes: [
    [64, 64],
    [70, 45],
  ],
});

describe('Unet options', () => {
  tensorTest('auxParams: forward returns { mask, label } with label [N, classes]', () => {
    const model = new Unet({ encoderName: 'resnet18', classes: 2, auxParams: { classes: 5, activation: 'softmax' } });
    try {
      assert.deepEqual([...model.stateDict()['classification_head.3.weight']!.shape], [5, 512]);
      torch.tidy(() => {
        const out = model.predict(torch.randn([3, 3, 64, 64]));
        assert.deepEqual([...out.mask.shape], [3, 2, 64, 64]);
        assert.deepEqual([...out.label.shape], [3, 5]);
        assert.ok(maxAbsDiff(out.label.sum({ dim: 1 }), torch.ones([3])) < 1e-5, 'softmax over classes');
      });
    } finally {
      model.dispose();
    }
  });

  tensorTest("activation 'sigmoid' gives values in [0, 1]", () => {
    const model = new Unet({ encoderName: 'resnet18', activation: 'sigmoid', classes: 2 });
    try {
      torch.tidy(() => {
        const y = model.predict(torch.randn([2, 3, 70, 45]).mul(10)) as Tensor;
        assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
      });
    } finally {
      model.dispose();
    }
  });

  tensorTest('inChannels 1 and 4 adapt the first conv as smp (sum of RGB; RGB repeated and scaled by 3/n)', () => {
    torch.manualSeed(11);
    const rgb = new Unet({ encoderName: 'resnet18' });
    torch.manualSeed(11);
    const one = new Unet({ encoderName: 'resnet18', inChannels: 1 });
    torch.manualSeed(11);
    const four = new Unet({ encoderName: 'resnet18', inChannels: 4 });
    try {
      torch.tidy(() => {
        const w = rgb.stateDict()['encoder.conv1.weight']!;
        const w1 = one.stateDict()['encoder.conv1.weight']!;
        const w4 = four.stateDict()['encoder.conv1.weight']!;
        assert.deepEqual([...w1.shape], [64, 1, 7, 7]);
        assert.deepEqual([...w4.shape], [64, 4, 7, 7]);
        assert.ok(maxAbsDiff(w1, w.sum({ dim: 1, keepdim: true })) < 1e-6);
        assert.ok(maxAbsDiff(w4, torch.cat([w, w.narrow(1, 0, 1)], 1).mul(3 / 4)) < 1e-6);
      });
      assert.equal(one.encoder.outChannels[0], 1);
      assert.equal(rgb.numParameters() - one.numParameters(), 64 * 2 * 49);
    } finally {
      rgb.dispose();
      one.dispose();
      four.dispose();
    }
  });

  tensorTest("scse attention and decoderUseBatchnorm false carry smp's keys", () => {
    const scse = new Unet({ encoderName: 'resnet18', decoderAttentionType: 'scse' });
    const plain = new Unet({ encoderName: 'resnet18', decoderUseBatchnorm: false });
    try {
      const s = scse.stateDict();
      // resnet18/34 features at stride 16 (256) + the upsampled 512: 768 channels, squeezed by 16.
      assert.deepEqual([...s['decoder.blocks.0.attention1.attention.cSE.1.weight']!.shape], [48, 768, 1, 1]);
      assert.deepEqual([...s['decoder.blocks.0.attention1.attention.cSE.3.weight']!.shape], [768, 48, 1, 1]);
      assert.deepEqual([...s['decoder.blocks.0.attention1.attention.sSE.0.weight']!.shape], [1, 768, 1, 1]);
      assert.deepEqual([...s['decoder.blocks.4.attention2.attention.sSE.0.bias']!.shape], [1]);
      const p = plain.stateDict();
      assert.deepEqual([...p['decoder.blocks.0.conv1.0.bias']!.shape], [256]);
      assert.ok(!Object.keys(p).some((k) => k.startsWith('decoder.') && k.includes('running_mean')), 'no decoder BatchNorm');
    } finally {
      scse.dispose();
      plain.dispose();
    }
  });

  tensorTest("decoderUseBatchnorm 'inplace' has BatchNorm's keys and BatchNorm + ReLU's values", () => {
    const bn = new Unet({ encoderName: 'resnet18' });
    const abn = new Unet({ encoderName: 'resnet18', decoderUseBatchnorm: 'inplace' });
    try {
      abn.loadStateDict(bn.stateDict());
      torch.tidy(() => {
        const x = torch.randn([1, 3, 64, 64]);
        assert.ok(maxAbsDiff(bn.predict(x), abn.predict(x)) < 1e-6);
      });
    } finally {
      bn.dispose();
      abn.dispose();
    }
  });

  tensorTest('encoderDepth 3 builds 3 decoder blocks; any size still comes back whole', () => {
    const model = new Unet({ encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [64, 32, 16] });
    try {
      assert.equal(model.divisor, 1, 'as smp, the Unet runs any size unpadded');
      assert.ok(!('decoder.blocks.3.conv1.0.weight' in model.stateDict()));
      torch.tidy(() => assert.deepEqual([...model.predict(torch.randn([1, 3, 37, 50])).shape], [1, 1, 37, 50]));
    } finally {
      model.dispose();
    }
  });

  tensorTest("decoderInterpolation 'bilinear' upsamples bilinearly (same weights, another output)", () => {
    const nearest = new Unet({ encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16, 16] });
    const bilinear = new Unet({
      encoderName: 'resnet18',
      encoderDepth: 3,
      decoderChannels: [32, 16, 16],
      decoderInterpolation: 'bilinear',
    });
    try {
      bilinear.loadStateDict(nearest.stateDict());
      torch.tidy(() => {
        const x = torch.randn([1, 3, 45, 70]);
        const a = nearest.predict(x) as Tensor;
        const b = bilinear.predict(x) as Tensor;
        assert.deepEqual([...b.shape], [1, 1, 45, 70]);
        assert.ok(maxAbsDiff(a, b) > 1e-4);
      });
    } finally {
      nearest.dispose();
      bilinear.dispose();
    }
  });

  tensorTest('bad options name the option, the expected and the received value', () => {
    assertThrows(() => new Unet({ encoderDepth: 6 }), RangeError, /encoderDepth must be an integer from 3 to 5, got 6/);
    assertThrows(
      () => new Unet({ encoderDepth: 4, decoderChannels: [256, 128, 64, 32, 16] }),
      RangeError,
      /decoderChannels must be an array of 4 positive integers \(one per decoder block: encoderDepth is 4\), got \[256, 128, 64, 32, 16\]/,
    );
    assertThrows(
      () => new Unet({ decoderChannels: [256, 128, 0, 32, 16] }),
      RangeError,
      /decoderChannels must be an array of 5 positive integers/,
    );
    assertThrows(
      () => new Unet({ decoderChannels: [256, 128, '64', 32, 16] as never }),
      TypeError,
      /decoderChannels must be an array of 5 positive integers/,
    );
    assertThrows(
      () => new Unet({ decoderUseBatchnorm: 'group' as never }),
      TypeError,
      /Unet: decoderUseBatchnorm must be true, false, 'batchnorm', 'identity', 'inplace', 'layernorm', 'instancenorm' or \{ type, \.\.\.options \}, got 'group'/,
    );
    assertThrows(
      () => new Unet({ decoderAttentionType: 'cbam' as never }),
      TypeError,
      /decoderAttentionType must be null or 'scse', got 'cbam'/,
    );
    assertThrows(
      () => new Unet({ decoderInterpolation: 'linear' as never }),
      TypeError,
      /decoderInterpolation must be one of 'nearest', .*got 'linear'/,
    );
    assertThrows(
      () => new Unet({ encoderWeights: 1 as never }),
      TypeError,
      /encoderWeights must be null, 'imagenet' or a file path, got 1/,
    );
    assertThrows(() => new Unet({ inChannels: 0 }), RangeError, /inChannels must be a positive integer, got 0/);
    assertThrows(() => new Unet({ classes: 0 }), RangeError, /classes must be a positive integer, got 0/);
    assertThrows(() => new Unet({ decoder_channels: [1] } as never), TypeError, /unknown option 'decoder_channels'.*decoderChannels/);
    assertThrows(
      () => new Unet({ activation: 'relu' as never }),
      TypeError,
      /Unet: activation must be null, a function or one of 'identity', 'sigmoid', .*got 'relu'/,
    );
    assertThrows(
      () => new Unet({ auxParams: { classes: 2, pool: 'avg' } as never }),
      TypeError,
      /Unet: auxParams: unknown option 'pool' \(known: classes, pooling, dropout, activation\); did you mean 'pooling'\?/,
    );
    assertThrows(
      () => new Unet({ auxParams: { dropout: 1.5 } }),
      RangeError,
      /Unet: auxParams.dropout must be a number from 0 to 1, got 1.5/,
    );
    assertThrows(() => new Unet({ auxParams: { activation: 'nope' as never } }), TypeError, /activation must be/);
  });

  tensorTest('unknown encoder and architecture names throw listing the valid ones', () => {
    assertThrows(
      () => createModel('unet', { encoderName: 'resnet35' }),
      TypeError,
      /Unet: encoderName must be one of .*'resnet18'.*'resnet34'.*, got 'resnet35'/,
    );
    assertThrows(() => createModel('u-net', {}), TypeError, /createModel: arch must be one of 'unet', .*, got 'u-net'/);
    assert.ok(listModels().includes('unet'));
    const byName = createModel('UNet', { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [16, 16, 16] });
    assert.ok(byName instanceof Unet, 'names are case-insensitive');
    byName.dispose();
  });
});

describe('Unet encoderWeights from local files', () => {
  let dir = '';
  const savedEnv = process.env.SEGKIT_WEIGHTS_DIR;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'segkit-unet-weights-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedEnv === undefined) delete process.env.SEGKIT_WEIGHTS_DIR;
    else process.env.SEGKIT_WEIGHTS_DIR = savedEnv;
  });

  const assertEncoderEquals = (model: SegmentationModel, expected: Record<string, Tensor>) => {
    const own = model.encoder.stateDict();
    for (const [k, t] of Object.entries(expected)) {
      if (k in own) assert.ok(torch.equal(own[k]!, t), `encoder.${k} loaded`);
    }
  };

  tensorTest('a .safetensors file given by path loads into the encoder (before inChannels is adapted)', () => {
    const source = createEncoder('resnet34');
    const file = join(dir, 'resnet34-encoder.safetensors');
    torch.saveSafetensors(file, source.stateDict());
    const model = createModel('unet', { encoderName: 'resnet34', encoderWeights: file }) as Unet;
    const four = new Unet({ encoderName: 'resnet34', encoderWeights: file, inChannels: 4 });
    try {
      assertEncoderEquals(model, source.stateDict());
      torch.tidy(() => {
        const w = source.stateDict()['conv1.weight']!;
        const expected = torch.cat([w, w.narrow(1, 0, 1)], 1).mul(3 / 4);
        assert.ok(maxAbsDiff(four.encoder.stateDict()['conv1.weight']!, expected) < 1e-6);
      });
    } finally {
      source.dispose();
      model.dispose();
      four.dispose();
    }
  });

  tensorTest("'imagenet' reads the cache folder (SEGKIT_WEIGHTS_DIR); a classifier in the file is ignored", () => {
    process.env.SEGKIT_WEIGHTS_DIR = dir;
    const source = createEncoder('resnet18');
    const extra = { 'fc.weight': torch.randn([1000, 512]), 'fc.bias': torch.randn([1000]) };
    // torchvision's file name, as a safetensors copy (segkit writes no .pth).
    torch.saveSafetensors(join(dir, 'resnet18-f37072fd.safetensors'), { ...source.stateDict(), ...extra });
    const model = new Unet({ encoderName: 'resnet18', encoderWeights: 'imagenet' });
    try {
      assertEncoderEquals(model, source.stateDict());
    } finally {
      source.dispose();
      torch.dispose(extra);
      model.dispose();
    }
  });

  tensorTest('a missing file and a file with wrong shapes give errors naming the file and the keys', () => {
    process.env.SEGKIT_WEIGHTS_DIR = dir;
    assertThrows(
      () => new Unet({ encoderName: 'resnet34', encoderWeights: 'imagenet' }),
      Error,
      /encoderWeights 'imagenet' for resnet34: no file at .*resnet34-b627a593\.pth/,
      /SEGKIT_WEIGHTS_DIR/,
      /does not download/,
    );
    assertThrows(() => new Unet({ encoderWeights: join(dir, 'absent.pth') }), Error, /encoderWeights: no file at .*absent\.pth/);
    const source = createEncoder('resnet18');
    const file = join(dir, 'wrong.safetensors');
    torch.tidy(() => torch.saveSafetensors(file, { ...source.stateDict(), 'conv1.weight': torch.zeros([64, 1, 7, 7]) }));
    try {
      assertThrows(
        () => new Unet({ encoderName: 'resnet18', encoderWeights: file }),
        Error,
        /wrong\.safetensors do not fit encoder resnet18: conv1\.weight: file has \[64, 1, 7, 7\], encoder needs \[64, 3, 7, 7\]/,
      );
      // resnet18's weights lack resnet34's extra blocks.
      torch.saveSafetensors(join(dir, 'r18.safetensors'), source.stateDict());
      assertThrows(
        () => new Unet({ encoderName: 'resnet34', encoderWeights: join(dir, 'r18.safetensors') }),
        Error,
        /do not fit encoder resnet34: missing layer1\.2\.conv1\.weight/,
      );
    } finally {
      source.dispose();
    }
  });
});
