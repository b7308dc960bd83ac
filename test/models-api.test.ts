// The model API every architecture shares: forward/predict typed by the options (checked at
// compile time by `npm run typecheck` and at run time here), model.loss(), smp 0.5's
// decoderUseNorm values, and the decoderChannels default at encoderDepth < 5.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  torch,
  F,
  createModel,
  Unet,
  UnetPlusPlus,
  MAnet,
  type AuxOutput,
  type ModelOutput,
  type SegmentationModel,
  type Tensor,
} from '../src/index.js';
import { assertThrows, maxAbsDiff, tensorTest } from './helpers.js';

type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
/** Compiles only when X and Y are the same type. */
function sameType<X, Y>(_proof: Equals<X, Y>): void {}

function withModel<M extends SegmentationModel<unknown, unknown>>(model: M, fn: (m: M) => void): void {
  try {
    torch.tidy(() => fn(model));
  } finally {
    model.dispose();
  }
}

const small = { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16, 16] } as const;

describe('forward and predict are typed by the options', () => {
  tensorTest('a Tensor without auxParams, { mask, label } with it, { mask, aux } in training for aux heads', () => {
    const x = torch.randn([2, 3, 32, 32]);
    try {
      withModel(createModel('unet', small), (m) => {
        sameType<ReturnType<typeof m.predict>, Tensor>(true);
        assert.deepEqual([...m.predict(x).shape], [2, 1, 32, 32]);
      });
      withModel(createModel('unet', { ...small, auxParams: { classes: 3 } }), (m) => {
        sameType<ReturnType<typeof m.predict>, ModelOutput>(true);
        const out = m.predict(x);
        assert.deepEqual([...out.label.shape], [2, 3]);
      });
      withModel(new Unet({ ...small, auxParams: { classes: 2 } }), (m) => {
        sameType<ReturnType<typeof m.forward>, ModelOutput>(true);
        assert.deepEqual([...torch.noGrad(() => m.forward(x)).mask.shape], [2, 1, 32, 32]);
      });
      withModel(createModel('pspnet', { variant: 'paper', encoderName: 'resnet18', classes: 2 }), (m) => {
        sameType<ReturnType<typeof m.forward>, Tensor | AuxOutput>(true);
        sameType<ReturnType<typeof m.predict>, Tensor>(true);
        const train = m.train().forward(x);
        assert.ok(!(train instanceof torch.Tensor) && train.aux.shape[1] === 2, 'training mode returns { mask, aux }');
        assert.ok(m.predict(x) instanceof torch.Tensor, 'predict returns the mask');
      });
    } finally {
      x.dispose();
    }
  });

  tensorTest('model.loss: the criterion on the mask, plus auxLossWeight times it on the aux head', () => {
    const x = torch.randn([2, 3, 32, 32]);
    const target = torch.tidy(() => torch.rand([2, 1, 32, 32]).round());
    const bce = (p: Tensor, t: Tensor) => F.binaryCrossEntropyWithLogits(p, t);
    try {
      withModel(createModel('unet', small), (m) => {
        const out = m.forward(x);
        assert.equal(m.loss(out, target, bce).item(), bce(out, target).item());
      });
      withModel(createModel('fcn', { encoderName: 'resnet18', aux: true, auxLossWeight: 0.25 }), (m) => {
        const out = m.train().forward(x);
        assert.ok(!(out instanceof torch.Tensor));
        const expected = bce(out.mask, target).item() + 0.25 * bce(out.aux, target).item();
        assert.ok(Math.abs(m.loss(out, target, bce).item() - expected) < 1e-6);
      });
    } finally {
      torch.dispose([x, target]);
    }
  });
});

describe("smp 0.5's decoderUseNorm", () => {
  const keys = (m: SegmentationModel<unknown, unknown>) =>
    Object.keys(m.stateDict()).filter((k) => k.startsWith('decoder.blocks.0.conv1.'));

  tensorTest('each kind builds its layer with its keys; booleans and the deprecated alias mean the same', () => {
    const cases: [unknown, string[]][] = [
      ['batchnorm', ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']],
      [true, ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']],
      ['inplace', ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']],
      ['identity', ['0.weight', '0.bias']],
      [false, ['0.weight', '0.bias']],
      ['layernorm', ['0.weight', '1.weight', '1.bias']],
      ['instancenorm', ['0.weight']],
      [{ type: 'instancenorm', affine: true }, ['0.weight', '1.weight', '1.bias']],
    ];
    for (const [useNorm, expected] of cases) {
      withModel(new Unet({ ...small, decoderUseNorm: useNorm as never }), (m) => {
        assert.deepEqual(
          keys(m).map((k) => k.slice('decoder.blocks.0.conv1.'.length)),
          expected,
          String(JSON.stringify(useNorm)),
        );
        assert.deepEqual([...m.predict(torch.randn([1, 3, 32, 32])).shape], [1, 1, 32, 32]);
      });
    }
    torch.manualSeed(3);
    const a = new Unet({ ...small, decoderUseNorm: 'identity' });
    torch.manualSeed(3);
    const b = new Unet({ ...small, decoderUseBatchnorm: false });
    try {
      torch.tidy(() => {
        const x = torch.randn([1, 3, 32, 32]);
        assert.equal(maxAbsDiff(a.predict(x), b.predict(x)), 0, 'decoderUseBatchnorm: false is decoderUseNorm: identity');
      });
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  tensorTest("'layernorm' normalises each pixel over the channels; options go through { type, ...options }", () => {
    withModel(new Unet({ ...small, decoderUseNorm: { type: 'layernorm', eps: 1e-2 } }), (m) => {
      const norm = m.decoder.blocks.at(0).getModule('conv1')!.getModule('1')!;
      const x = torch.randn([2, 32, 5, 7]);
      const y = norm.forward(x) as Tensor;
      const perPixel = y.mean({ dim: [1] });
      assert.ok(perPixel.abs().max().item() < 1e-5, 'zero mean over channels at every pixel');
      assert.equal((norm as unknown as { eps: number }).eps, 1e-2);
    });
    assertThrows(
      () => new Unet({ decoderUseNorm: { type: 'groupnorm' } as never }),
      TypeError,
      /Unet: decoderUseNorm\.type must be one of 'batchnorm', .*got 'groupnorm'/,
    );
    assertThrows(
      () => new Unet({ decoderUseNorm: { type: 'batchnorm', eps: -1 } }),
      RangeError,
      /Unet: decoderUseNorm\.eps must be a positive number, got -1/,
    );
    assertThrows(() => new Unet({ decoderUseNorm: 'identity', decoderUseBatchnorm: true }), TypeError, /not both/);
  });
});

describe('decoderChannels at encoderDepth < 5', () => {
  tensorTest('Unet, UNet++ and MAnet take the first encoderDepth entries of [256, 128, 64, 32, 16]', () => {
    for (const build of [
      () => new Unet({ encoderName: 'resnet18', encoderDepth: 3 }),
      () => new UnetPlusPlus({ encoderName: 'resnet18', encoderDepth: 3 }),
      () => new MAnet({ encoderName: 'resnet18', encoderDepth: 3 }),
    ]) {
      withModel(build(), (m) => {
        // The head reads the last block: 64 channels at depth 3.
        assert.deepEqual([...m.stateDict()['segmentation_head.0.weight']!.shape], [1, 64, 3, 3], m.constructor.name);
      });
    }
  });
});
