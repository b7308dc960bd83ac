// torchvision's segmentation models in segkit: FCN-ResNet ('fcn') and DeepLabV3 with
// `layout: 'torchvision'`. Keys, order, shapes and parameter counts against torchvision 0.14's
// own models, and outputs against torchvision's for weights filled by the shared rule
// (fixtures: scripts/fixtures/make_torchvision_fixtures.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, type nn, F, type Tensor } from '../src/index.js';
import '../src/models/encoders/resnet.js';
import { FCNResNet, createDilatedBackbone } from '../src/models/decoders/fcn-resnet/index.js';
import { TorchvisionDeepLabV3 } from '../src/models/decoders/deeplabv3/index.js';
import { createModel } from '../src/models/registry.js';
import type { ResNetEncoder, Bottleneck } from '../src/models/encoders/resnet.js';
import { FIXTURES, assertClose, assertThrows, tensorTest } from './helpers.js';
import { modelHarness } from './model-harness.js';
import { fillByRule, ruleValue } from './fill-rule.js';

interface KeysFile {
  keys_in_state_dict_order: [string, number[], string][];
  params: number;
  params_aux_loss: number;
  spot_checks: Record<string, [number, number]>;
}

const DIR = join(FIXTURES, 'torchvision');
const keysOf = (name: string): KeysFile => JSON.parse(readFileSync(join(DIR, `${name}.keys.json`), 'utf8'));

const CASES = [
  { name: 'fcn_resnet50', build: (o: Record<string, unknown> = {}) => createModel('fcn', { encoderName: 'resnet50', classes: 21, ...o }) },
  {
    name: 'deeplabv3_resnet50',
    build: (o: Record<string, unknown> = {}) =>
      createModel('deeplabv3', { layout: 'torchvision', encoderName: 'resnet50', classes: 21, ...o }),
  },
];

describe('the weight rule (shared fixtures README) ported to JS', () => {
  tensorTest('reproduces the spot checks of the smp fixture and of these fixtures', () => {
    const smp = JSON.parse(readFileSync(join(FIXTURES, 'smp-unet-resnet34', 'unet-resnet34.keys.json'), 'utf8')) as KeysFile;
    for (const file of [smp, keysOf('fcn_resnet50'), keysOf('deeplabv3_resnet50')]) {
      const shapes = new Map(file.keys_in_state_dict_order.map(([k, s]) => [k, s]));
      for (const [key, [first, last]] of Object.entries(file.spot_checks)) {
        const a = torch.tidy(() => ruleValue(key, shapes.get(key)!).flatten().toArray() as Float32Array);
        assert.equal(a[0], first, `${key}[0]`);
        assert.equal(a[a.length - 1], last, `${key}[-1]`);
      }
    }
  });
});

for (const c of CASES) {
  describe(`torchvision ${c.name}`, () => {
    const ref = keysOf(c.name);

    tensorTest("state-dict keys, order, shapes and dtypes are torchvision's", () => {
      const model = c.build();
      try {
        const mine = Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype]);
        assert.deepEqual(mine, ref.keys_in_state_dict_order);
      } finally {
        model.dispose();
      }
    });

    tensorTest(
      `parameter count: ${ref.params} (aux_loss=False), ${ref.params_aux_loss} with aux (torchvision's published num_params)`,
      () => {
        const model = c.build();
        const withAux = c.build({ aux: true });
        try {
          assert.equal(model.numParameters(), ref.params);
          assert.equal(withAux.numParameters(), ref.params_aux_loss);
          assert.deepEqual(
            Object.keys(withAux.stateDict())
              .filter((k) => k.startsWith('aux_classifier.'))
              .slice(0, 2),
            ['aux_classifier.0.weight', 'aux_classifier.1.weight'],
          );
        } finally {
          model.dispose();
          withAux.dispose();
        }
      },
    );

    tensorTest("weights filled by the rule give torchvision's output within 1e-5 (float64 reference)", () => {
      const model = c.build();
      const io = torch.loadSafetensors(join(DIR, `${c.name}.io.safetensors`));
      try {
        fillByRule(model);
        model.eval();
        torch.tidy(() => {
          const y = torch.noGrad(() => model.forward(io.input!));
          assertClose(y, io.output_f64!, 1e-5, 0, `${c.name} vs torchvision float64`);
          assertClose(y, io.output!, 1e-5, 0, `${c.name} vs torchvision float32`);
        });
      } finally {
        torch.dispose(io);
        model.dispose();
      }
    });
  });
}

describe('torchvision dilation (replace_stride_with_dilation=[False, True, True])', () => {
  tensorTest('first block of each dilated layer keeps the previous dilation; downsample convs get stride 1', () => {
    const b = createDilatedBackbone('resnet50', { outputStride: 8 }) as ResNetEncoder;
    try {
      const blocks = (i: number) => b.layers[i]!.children() as Bottleneck[];
      const d = (blk: Bottleneck) => [blk.conv2.dilation[0], blk.conv2.stride[0], (blk.conv2.padding as number[])[0]];
      assert.deepEqual(d(blocks(1)[0]!), [1, 2, 1], 'layer2.0 keeps its stride');
      assert.deepEqual(d(blocks(2)[0]!), [1, 1, 1], 'layer3.0: previous dilation 1, stride 1');
      assert.deepEqual(d(blocks(2)[1]!), [2, 1, 2], 'layer3.1: dilation 2');
      assert.deepEqual(d(blocks(3)[0]!), [2, 1, 2], 'layer4.0: previous dilation 2');
      assert.deepEqual(d(blocks(3)[2]!), [4, 1, 4], 'layer4.2: dilation 4');
      for (const i of [2, 3]) assert.deepEqual((blocks(i)[0]!.downsample!.at(0) as nn.Conv2d).stride, [1, 1]);
      assert.equal(b.outputStride, 8);
      torch.tidy(() => {
        const f = torch.noGrad(() => b.eval().forward(torch.randn([1, 3, 64, 64])));
        assert.deepEqual(
          f.map((t) => t.shape[2]),
          [64, 32, 16, 8, 8, 8],
        );
      });
    } finally {
      b.dispose();
    }
  });

  tensorTest("output stride 16 dilates only layer4; BasicBlock ResNets fall back to smp's dilation", () => {
    const b16 = createDilatedBackbone('resnet50', { outputStride: 16 });
    const b18 = createDilatedBackbone('resnet18', { outputStride: 8 });
    try {
      assert.equal(b16.outputStride, 16);
      assert.equal(b18.outputStride, 8);
      torch.tidy(() => {
        const x = torch.randn([1, 3, 64, 64]);
        assert.deepEqual(
          torch.noGrad(() => b16.eval().forward(x)).map((t) => t.shape[2]),
          [64, 32, 16, 8, 4, 4],
        );
        assert.deepEqual(
          torch.noGrad(() => b18.eval().forward(x)).map((t) => t.shape[2]),
          [64, 32, 16, 8, 8, 8],
        );
      });
    } finally {
      b16.dispose();
      b18.dispose();
    }
  });
});

describe('auxiliary classifier (torchvision aux_loss)', () => {
  tensorTest('training returns { mask, aux } at the input size; eval returns the mask; loss() weights aux by auxLossWeight', () => {
    const model = new FCNResNet({ encoderName: 'resnet18', classes: 3, aux: true, auxLossWeight: 0.25 });
    try {
      assert.equal(model.auxLossWeight, 0.25);
      torch.manualSeed(0);
      torch.tidy(() => {
        const x = torch.randn([2, 3, 48, 40]);
        const target = torch.randint(0, 3, [2, 48, 40]);
        const out = model.train().forward(x) as { mask: Tensor; aux: Tensor };
        assert.deepEqual([...out.mask.shape], [2, 3, 48, 40]);
        assert.deepEqual([...out.aux.shape], [2, 3, 48, 40]);
        const ce = (p: Tensor, t: Tensor) => F.crossEntropy(p, t);
        const loss = model.loss(out, target, ce);
        assertClose(loss, ce(out.mask, target).add(ce(out.aux, target).mul(0.25)), 1e-6, 0, 'combined loss');
        loss.backward();
        const missing = model
          .namedParameters()
          .filter(([, p]) => p.grad === null)
          .map(([n]) => n);
        assert.deepEqual(missing, []);
        model.zeroGrad();
        const y = torch.noGrad(() => model.eval().forward(x));
        assert.ok(y instanceof torch.Tensor);
      });
    } finally {
      model.dispose();
    }
  });

  tensorTest('DeepLabV3 torchvision layout with aux: aux_classifier reads layer3', () => {
    const model = new TorchvisionDeepLabV3({ encoderName: 'resnet18', classes: 2, aux: true });
    try {
      const sd = model.stateDict();
      assert.deepEqual([...sd['aux_classifier.0.weight']!.shape], [64, 256, 3, 3]);
      assert.deepEqual([...sd['classifier.0.convs.0.0.weight']!.shape], [256, 512, 1, 1]);
      assert.deepEqual([...sd['classifier.4.weight']!.shape], [2, 256, 1, 1]);
    } finally {
      model.dispose();
    }
  });
});

describe('torchvision-layout options', () => {
  tensorTest('errors name the option, what was expected and what came', () => {
    assertThrows(
      () => createModel('fcn', { encoderName: 'resnet18', encoderOutputStride: 32 }),
      RangeError,
      /encoderOutputStride must be 8 or 16, got 32/,
    );
    assertThrows(
      () => createModel('fcn', { encoderName: 'resnet18', encoder_name: 'resnet50' }),
      TypeError,
      /FCNResNet: unknown option 'encoder_name'/,
      /known: .*encoderName.*did you mean 'encoderName'/,
    );
    assertThrows(
      () => createModel('fcn', { encoderName: 'resnet18', encoderDepth: 4 }),
      RangeError,
      /FCNResNet: encoderDepth must be 5, got 4/,
    );
    assertThrows(() => createModel('fcn', { encoderName: 'resnet18', aux: 1 }), TypeError, /FCNResNet: aux must be true or false, got 1/);
    assertThrows(
      () => createModel('deeplabv3', { layout: 'keras' }),
      TypeError,
      /DeepLabV3: layout must be 'smp' or 'torchvision', got 'keras'/,
    );
    assertThrows(
      () => createModel('deeplabv3', { layout: 'torchvision', encoderName: 'resnet18', decoderAsppSeparable: true }),
      TypeError,
      /TorchvisionDeepLabV3: unknown option 'decoderAsppSeparable'/,
    );
    assertThrows(() => createModel('fcn', { encoderName: 'nope' }), TypeError, /FCNResNet: encoderName must be one of .*, got 'nope'/);
  });

  tensorTest('any input size works without padding (logits are resized to the input, as torchvision)', () => {
    const model = createModel('fcn', { encoderName: 'resnet18', classes: 2 }) as FCNResNet;
    try {
      assert.equal(model.divisor, 1);
      model.eval();
      torch.tidy(() => {
        const x = torch.randn([1, 3, 37, 53]);
        assert.deepEqual([...torch.noGrad(() => model.forward(x)).shape], [1, 2, 37, 53]);
      });
    } finally {
      model.dispose();
    }
  });
});

modelHarness({
  name: 'harness: fcn / resnet50 with aux',
  build: () => createModel('fcn', { encoderName: 'resnet50', classes: 2, aux: true }),
  classes: 2,
  sizes: [
    [40, 40],
    [33, 45],
  ],
  noGradOk: (n) => n.startsWith('aux_classifier.'),
});
// ResNet-18 keeps this one fast (smp-style dilation: torchvision cannot dilate BasicBlocks).
modelHarness({
  name: 'harness: deeplabv3 torchvision layout / resnet18, 4 bands',
  build: () => createModel('deeplabv3', { layout: 'torchvision', encoderName: 'resnet18', classes: 2, inChannels: 4 }),
  inChannels: 4,
  classes: 2,
  sizes: [
    [64, 64],
    [50, 71],
  ],
});
