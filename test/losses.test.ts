// segkit's losses on hand-computed numbers, against segkit's own PyTorch-equal functional
// losses, as a model's criterion, in weighted sums, and on bad input. (Parity with smp on
// fixtures is test/losses-parity.test.ts.)
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch, F, createModel, type Tensor } from '../src/index.js';
import * as losses from '../src/losses/index.js';
import { clampMin, logsigmoid } from '../src/torch/ops/math.js';
import { assertClose, assertThrows, tensorTest } from './helpers.js';

const close = (a: number, e: number, tol = 1e-12, what = 'value') => assert.ok(Math.abs(a - e) <= tol, `${what}: ${a}, expected ${e}`);
const f64 = (data: number[], shape: number[]) => torch.tensor(data, { dtype: 'float64', shape });

/** Value and gradient of loss(yPred, yTrue) with respect to yPred, as numbers. */
function valueAndGrad(loss: losses.Loss, yPred: Tensor, yTrue: Tensor): { value: number; grad: number[] } {
  return torch.tidy(() => {
    const p = yPred.detach().requiresGrad_();
    const v = loss.forward(p, yTrue);
    v.backward();
    return { value: v.item(), grad: Array.from(p.grad!.toArray() as Float64Array) };
  });
}

describe('logsigmoid and clampMin', () => {
  tensorTest('logsigmoid is log(1 / (1 + e^-x)), stable at large |x|, with gradient 1 - sigmoid(x)', () => {
    torch.tidy(() => {
      const x = f64([-1000, -1, 0, 2, 40], [5]).requiresGrad_();
      const y = logsigmoid(x);
      const expected = [-1000, -Math.log1p(Math.E), -Math.LN2, -Math.log1p(Math.exp(-2)), -Math.exp(-40)];
      (y.toArray() as Float64Array).forEach((v, i) =>
        close(v, expected[i]!, 1e-15 * Math.max(1, Math.abs(expected[i]!)), `logsigmoid[${i}]`),
      );
      y.sum().backward();
      const grad = [1, 1 / (1 + Math.exp(-1)), 0.5, 1 / (1 + Math.exp(2)), Math.exp(-40) / (1 + Math.exp(-40))];
      (x.grad!.toArray() as Float64Array).forEach((v, i) => close(v, grad[i]!, 1e-15, `d logsigmoid[${i}]`));
    });
  });

  tensorTest('clampMin raises values below the bound; the gradient passes only where x >= min', () => {
    torch.tidy(() => {
      const x = f64([0.1, -2, 3, 0.5], [4]).requiresGrad_();
      const y = clampMin(x, 0.5);
      assert.deepEqual(y.tolist(), [0.5, 0.5, 3, 0.5]);
      y.sum().backward();
      assert.deepEqual(x.grad!.tolist(), [0, 0, 1, 1]);
    });
  });
});

describe('hand-computed values', () => {
  // p = [0.9, 0.2, 0.6, 0.1], t = [1, 0, 1, 0]: TP 1.5, FP 0.3, FN 0.5, sum p 1.8, sum t 2.
  const probs = () => f64([0.9, 0.2, 0.6, 0.1], [1, 1, 2, 2]);
  const truth = () => f64([1, 0, 1, 0], [1, 1, 2, 2]);

  tensorTest('Dice 1 - 2 TP / (sum p + sum t), Jaccard 1 - TP / (TP + FP + FN), Tversky with alpha 0.3, beta 0.7', () => {
    const cases: [losses.Loss, number][] = [
      [new losses.DiceLoss('binary', { fromLogits: false }), 1 - 3 / 3.8],
      [new losses.JaccardLoss('binary', { fromLogits: false }), 1 - 1.5 / 2.3],
      [new losses.TverskyLoss('binary', { fromLogits: false, alpha: 0.3, beta: 0.7 }), 1 - 1.5 / (1.5 + 0.09 + 0.35)],
      [new losses.TverskyLoss('binary', { fromLogits: false, alpha: 0.3, beta: 0.7, gamma: 2 }), (1 - 1.5 / 1.94) ** 2],
      [new losses.DiceLoss('binary', { fromLogits: false, logLoss: true }), -Math.log(3 / 3.8)],
      [new losses.DiceLoss('binary', { fromLogits: false, smooth: 1 }), 1 - 2.5 / 2.9],
    ];
    for (const [loss, expected] of cases) {
      torch.tidy(() => close(loss.forward(probs(), truth()).item(), expected, 1e-12, String(loss)));
    }
  });

  tensorTest('Dice gradient: d/dp_i of 1 - 2 I / S is -(2 t_i S - 2 I) / S^2', () => {
    // I = 1.5, S = 3.8: a positive pixel gets -(2 * 3.8 - 3) / 3.8^2, a negative one 3 / 3.8^2.
    const { grad } = torch.tidy(() => valueAndGrad(new losses.DiceLoss('binary', { fromLogits: false }), probs(), truth()));
    const pos = -(2 * 3.8 - 3) / 3.8 ** 2;
    const neg = 3 / 3.8 ** 2;
    [pos, neg, pos, neg].forEach((g, i) => close(grad[i]!, g, 1e-12, `grad[${i}]`));
  });

  tensorTest('a channel with no true pixel adds zero to Dice: the empty batch gives loss 0 and zero gradients', () => {
    const { value, grad } = torch.tidy(() =>
      valueAndGrad(new losses.DiceLoss('binary'), f64([3, -2, 0.5, 1], [1, 1, 2, 2]), torch.zeros([1, 1, 2, 2])),
    );
    assert.equal(value, 0);
    assert.deepEqual(grad, [0, 0, 0, 0]);
  });

  tensorTest('Focal: logit 0 on a positive gives (1 - 0.5)^2 ln 2, and alpha 0.25 scales it', () => {
    torch.tidy(() => {
      const x = f64([0], [1, 1, 1, 1]);
      const y = f64([1], [1, 1, 1, 1]);
      close(new losses.FocalLoss('binary').forward(x, y).item(), 0.25 * Math.LN2, 1e-15);
      close(new losses.FocalLoss('binary', { alpha: 0.25 }).forward(x, y).item(), 0.25 * 0.25 * Math.LN2, 1e-15);
      close(new losses.FocalLoss('binary', { gamma: 0 }).forward(x, y).item(), Math.LN2, 1e-15);
    });
  });

  tensorTest('Lovasz hinge: logits [0.5, 0.5], labels [1, 0] give errors [0.5, 1.5], Jaccard gradient [0.5, 0.5], loss 1', () => {
    const { value, grad } = torch.tidy(() =>
      valueAndGrad(new losses.LovaszLoss('binary'), f64([0.5, 0.5], [1, 1, 1, 2]), f64([1, 0], [1, 1, 2])),
    );
    close(value, 1, 1e-15);
    // d/dx of relu(1 - x s) . g: -s_i g_i, with g = 0.5 for both pixels.
    assert.deepEqual(grad, [-0.5, 0.5]);
  });

  tensorTest('lovaszGrad is the Jaccard loss increments of Alg. 1: labels [1, 0, 1] give [0.5, 1/6, 1/3]', () => {
    torch.tidy(() => {
      // intersection 2 - cumsum = [1, 1, 0], union 2 + cumsum(1 - gt) = [2, 3, 3], J = 1 - i/u = [0.5, 2/3, 1].
      const g = losses.lovaszGrad(f64([1, 0, 1], [3]), 'float64').toArray() as Float64Array;
      [0.5, 2 / 3 - 0.5, 1 / 3].forEach((v, i) => close(g[i]!, v, 1e-15, `grad[${i}]`));
    });
  });

  tensorTest('MCC: p [1, 0, 1, 0] against t [1, 0, 0, 0] is 1 - (1*2 - 1*0) / sqrt(2*1*3*2)', () => {
    torch.tidy(() => {
      const v = new losses.MCCLoss({ eps: 0 }).forward(f64([1, 0, 1, 0], [1, 1, 2, 2]), f64([1, 0, 0, 0], [1, 2, 2]));
      close(v.item(), 1 - 2 / Math.sqrt(12), 1e-15);
      const logits = new losses.MCCLoss({ eps: 0, fromLogits: true }).forward(
        f64([40, -40, 40, -40], [1, 1, 2, 2]),
        f64([1, 0, 0, 0], [1, 2, 2]),
      );
      close(logits.item(), 1 - 2 / Math.sqrt(12), 1e-12, 'fromLogits: sigmoid first');
    });
  });
});

describe('against PyTorch-equal functional losses', () => {
  tensorTest(
    'SoftBCEWithLogitsLoss without smoothing is F.binaryCrossEntropyWithLogits; ignored pixels add zero but count in the mean',
    () => {
      torch.tidy(() => {
        const x = torch.randn([2, 1, 4, 4], { dtype: 'float64' });
        const y = torch.rand([2, 1, 4, 4], { dtype: 'float64' }).gt(0.5).double();
        assertClose(new losses.SoftBCEWithLogitsLoss().forward(x, y), F.binaryCrossEntropyWithLogits(x, y), 0, 1e-15);
        const ignored = y.clone().maskedFill(x.gt(1), 255);
        const kept = x.le(1).double();
        const expected = F.binaryCrossEntropyWithLogits(x, y, { reduction: 'none' }).mul(kept).sum().div(32);
        assertClose(new losses.SoftBCEWithLogitsLoss({ ignoreIndex: 255 }).forward(x, ignored), expected, 0, 1e-12);
      });
    },
  );

  tensorTest(
    "SoftCrossEntropyLoss is F.crossEntropy's sum over the pixels kept, divided by all pixels; label smoothing matches at 0 ignore",
    () => {
      torch.tidy(() => {
        const x = torch.randn([2, 3, 4, 4], { dtype: 'float64' });
        const y = torch.randint(0, 3, [2, 4, 4]);
        assertClose(new losses.SoftCrossEntropyLoss().forward(x, y), F.crossEntropy(x, y), 0, 1e-14);
        const withVoid = y.maskedFill(x.select(1, 0).gt(1), 255);
        const expected = F.crossEntropy(x, withVoid, { ignoreIndex: 255, reduction: 'sum' }).div(32);
        assertClose(new losses.SoftCrossEntropyLoss({ ignoreIndex: 255 }).forward(x, withVoid), expected, 0, 1e-14);
        assertClose(
          new losses.SoftCrossEntropyLoss({ smoothFactor: 0.1 }).forward(x, y),
          F.crossEntropy(x, y, { labelSmoothing: 0.1 }),
          0,
          1e-14,
          'fairseq smoothing = PyTorch label_smoothing without ignored pixels',
        );
      });
    },
  );

  tensorTest('a (N, 1, H, W) target equals an (N, H, W) one, for binary losses and SoftCrossEntropyLoss', () => {
    torch.tidy(() => {
      const x = torch.randn([2, 1, 4, 4], { dtype: 'float64' });
      const y = torch.rand([2, 4, 4], { dtype: 'float64' }).gt(0.5).double();
      for (const loss of [
        new losses.DiceLoss('binary'),
        new losses.FocalLoss('binary'),
        new losses.LovaszLoss('binary'),
        new losses.SoftBCEWithLogitsLoss(),
      ]) {
        assert.equal(loss.forward(x, y).item(), loss.forward(x, y.unsqueeze(1)).item(), loss.name);
      }
      const x3 = torch.randn([2, 3, 4, 4], { dtype: 'float64' });
      const c = torch.randint(0, 3, [2, 4, 4]);
      const ce = new losses.SoftCrossEntropyLoss();
      assert.equal(ce.forward(x3, c).item(), ce.forward(x3, c.unsqueeze(1)).item());
    });
  });

  tensorTest('Lovasz multiclass with every pixel ignored: 0 with zero gradients (smp returns an empty tensor)', () => {
    const { value, grad } = torch.tidy(() =>
      valueAndGrad(
        new losses.LovaszLoss('multiclass', { ignoreIndex: 255 }),
        torch.randn([1, 3, 2, 2], { dtype: 'float64' }),
        torch.full([1, 2, 2], 255, { dtype: 'int64' }),
      ),
    );
    assert.equal(value, 0);
    assert.deepEqual(grad, new Array(12).fill(0));
  });
});

describe('weighted sums and criteria', () => {
  tensorTest('losses.sum([[0.8, bce], [0.2, dice]]) is 0.8 bce + 0.2 dice in value and gradient, and reports its parts', () => {
    const bce = new losses.SoftBCEWithLogitsLoss();
    const dice = new losses.DiceLoss('binary');
    const total = losses.sum([
      [0.8, bce],
      [0.2, dice],
    ]);
    try {
      assert.deepEqual(total.lastParts(), []);
      torch.tidy(() => {
        const x = torch.randn([2, 1, 8, 8], { dtype: 'float64' });
        const y = torch.rand([2, 1, 8, 8], { dtype: 'float64' }).gt(0.6).double();
        const a = valueAndGrad(total, x, y);
        const b = valueAndGrad(bce, x, y);
        const d = valueAndGrad(dice, x, y);
        close(a.value, 0.8 * b.value + 0.2 * d.value, 1e-15);
        a.grad.forEach((g, i) => close(g, 0.8 * b.grad[i]! + 0.2 * d.grad[i]!, 1e-15, `grad[${i}]`));
        assert.deepEqual(total.lastParts(), [
          { name: 'SoftBCEWithLogitsLoss', weight: 0.8, value: b.value },
          { name: 'DiceLoss', weight: 0.2, value: d.value },
        ]);
        const { loss, parts } = total.forwardParts(x, y);
        assert.equal(loss.item(), a.value);
        assert.equal(parts.length, 2);
      });
      assert.match(
        String(total),
        /^WeightedSum\(\n {2}0\.8 \* SoftBCEWithLogitsLoss \+ 0\.2 \* DiceLoss\n {2}\(0\): SoftBCEWithLogitsLoss\(\)/,
      );
    } finally {
      total.dispose();
    }
  });

  tensorTest('terms may be named objects or plain functions; repeated names are numbered', () => {
    const mse = (p: Tensor, t: Tensor) => F.mseLoss(p.sigmoid(), t);
    const total = losses.sum([
      { weight: 1, loss: new losses.DiceLoss('binary'), name: 'dice' },
      [0.5, mse],
      [0.5, new losses.DiceLoss('binary', { logLoss: true })],
      [2, new losses.DiceLoss('binary')],
    ]);
    torch.tidy(() => {
      total.forward(torch.randn([1, 1, 4, 4]), torch.ones([1, 1, 4, 4]));
      assert.deepEqual(
        total.lastParts().map((p) => p.name),
        ['dice', 'mse', 'DiceLoss', 'DiceLoss#2'],
      );
    });
  });

  tensorTest("criterion plugs a loss into a model's loss(): gradients reach the model's parameters", () => {
    const model = createModel('unet', { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16, 16], classes: 1 });
    const criterion = losses.sum([
      [0.8, new losses.SoftBCEWithLogitsLoss()],
      [0.2, new losses.DiceLoss('binary')],
    ]);
    try {
      torch.tidy(() => {
        const x = torch.randn([2, 3, 32, 32]);
        const y = torch.rand([2, 1, 32, 32]).gt(0.7).float();
        const out = model.forward(x);
        const loss = model.loss(out, y, criterion.criterion);
        close(loss.item(), criterion.forward(out, y).item(), 1e-6);
        loss.backward();
        const head = model.segmentationHead.parameters()[0]!;
        assert.ok(head.grad !== null && head.grad.abs().sum().item() > 0, 'the head has a gradient');
      });
    } finally {
      model.dispose();
      criterion.dispose();
    }
  });

  tensorTest('SoftBCEWithLogitsLoss keeps copies of weight and posWeight as buffers weight and pos_weight', () => {
    const w = torch.tensor([1, 2], { shape: [2, 1, 1] });
    const loss = new losses.SoftBCEWithLogitsLoss({ weight: w, posWeight: w });
    try {
      assert.deepEqual(Object.keys(loss.stateDict()), ['weight', 'pos_weight']);
      assert.notEqual(loss.weight, w);
      loss.dispose();
      assert.ok(!w.isDisposed, "the caller's tensor stays the caller's");
    } finally {
      w.dispose();
    }
  });
});

describe('bad input', () => {
  tensorTest('options: mode, unknown keys, binary-only rules, ranges', () => {
    assertThrows(
      () => new losses.DiceLoss('binray' as losses.LossMode),
      TypeError,
      /^DiceLoss: mode must be one of 'binary', 'multiclass', 'multilabel', got 'binray'$/,
    );
    assertThrows(
      () => new losses.FocalLoss('binary', { ignore_index: 1 } as never),
      TypeError,
      /FocalLoss: unknown option 'ignore_index'.*did you mean 'ignoreIndex'\?/,
    );
    assertThrows(
      () => new losses.DiceLoss('binary', { classes: [0] }),
      TypeError,
      /DiceLoss: classes must be unset in binary mode \(it has one channel\), got \[0\]/,
    );
    assertThrows(
      () => new losses.JaccardLoss('binary', { classWeights: [1] }),
      TypeError,
      /JaccardLoss: classWeights must be unset in binary mode/,
    );
    assertThrows(() => new losses.DiceLoss('multiclass', { classWeights: [0, 0] }), RangeError, /not all zero/);
    assertThrows(
      () => new losses.FocalLoss('binary', { alpha: 1.5 }),
      RangeError,
      /FocalLoss: alpha must be a number from 0 to 1, got 1\.5/,
    );
    assertThrows(
      () => new losses.FocalLoss('binary', { reduction: 'avg' as never }),
      TypeError,
      /reduction must be one of 'mean', 'sum', 'none', 'batchwise_mean', got 'avg'/,
    );
    assertThrows(() => new losses.TverskyLoss('binary', { gamma: 0 }), RangeError, /TverskyLoss: gamma must be a positive number, got 0/);
    assertThrows(
      () => new losses.LovaszLoss('binary', { fromLogits: false }),
      TypeError,
      /LovaszLoss: fromLogits must be true in binary mode/,
    );
    assertThrows(
      () => new losses.SoftBCEWithLogitsLoss({ weight: [1, 2] as never }),
      TypeError,
      /weight must be a Tensor or null, got \[1, 2\]/,
    );
    assert.equal(String(new losses.DiceLoss('multiclass', { ignoreIndex: 255 })), "DiceLoss(mode='multiclass', ignoreIndex=255)");
    assert.equal(String(new losses.TverskyLoss('binary', { gamma: 2 })), "TverskyLoss(mode='binary', gamma=2)");
    assertThrows(() => losses.sum([]), TypeError, /losses\.sum: terms must be a non-empty array/);
    assertThrows(() => losses.sum([[Number.NaN, new losses.DiceLoss('binary')]]), RangeError, /weight must be a finite number, got NaN/);
    assertThrows(() => losses.sum([[1, 'dice' as never]]), TypeError, /terms\[0\] loss must be a Loss or a function/);
  });

  tensorTest('shapes and dtypes: each error names the loss, the mode, what was expected and what came', () => {
    torch.tidy(() => {
      const x1 = torch.randn([2, 1, 4, 4]);
      const x3 = torch.randn([2, 3, 4, 4]);
      assertThrows(
        () => new losses.DiceLoss('binary').forward(x1, torch.zeros([2, 4, 5])),
        RangeError,
        /^DiceLoss\.forward: yTrue\.shape must be \[2, 4, 4\] or yPred's shape \[2, 1, 4, 4\] in binary mode, got \[2, 4, 5\]$/,
      );
      assertThrows(
        () => new losses.FocalLoss('multiclass').forward(x3, torch.zeros([2, 3, 4, 4], { dtype: 'int64' })),
        RangeError,
        /FocalLoss\.forward: yTrue\.shape must be \[2, 4, 4\] in multiclass mode \(yPred's \[2, 3, 4, 4\] without its class dimension\), got \[2, 3, 4, 4\]/,
      );
      assertThrows(
        () => new losses.DiceLoss('multiclass').forward(x3, torch.zeros([2, 4, 4])),
        TypeError,
        /DiceLoss\.forward: yTrue must be an integer tensor of class indices in multiclass mode \(convert with \.long\(\)\), got 'float32'/,
      );
      assertThrows(
        () => new losses.LovaszLoss('multilabel').forward(x3, torch.zeros([2, 1, 4, 4])),
        RangeError,
        /LovaszLoss\.forward: yTrue\.shape must be yPred's shape \[2, 3, 4, 4\] in multilabel mode, got \[2, 1, 4, 4\]/,
      );
      assertThrows(
        () => new losses.JaccardLoss('binary').forward(torch.zeros([2, 1, 4, 4], { dtype: 'int64' }), x1),
        TypeError,
        /JaccardLoss\.forward: yPred must be a floating point tensor of logits or probabilities, got 'int64'/,
      );
      assertThrows(
        () => new losses.MCCLoss().forward(x1, 'mask' as never),
        TypeError,
        /MCCLoss\.forward: yTrue must be a Tensor, got 'mask'/,
      );
      assertThrows(
        () => new losses.DiceLoss('multiclass', { classes: [3] }).forward(x3, torch.zeros([2, 4, 4], { dtype: 'int64' })),
        RangeError,
        /classes must be channel indices below 3 \(yPred has 3 channels\), got 3/,
      );
      assertThrows(
        () => new losses.FocalLoss('multilabel', { classWeights: [1, 2] }).forward(x3, torch.zeros([2, 3, 4, 4])),
        RangeError,
        /classWeights must have one weight per channel \(3, yPred's dimension 1\), got 2/,
      );
    });
  });

  tensorTest('class indices outside 0..C-1 are a RangeError naming the loss and the values found', () => {
    torch.tidy(() => {
      const x3 = torch.randn([1, 3, 2, 2]);
      const y = torch.tensor([0, 1, 2, 255], { dtype: 'int64', shape: [1, 2, 2] });
      assertThrows(
        () => new losses.DiceLoss('multiclass').forward(x3, y),
        RangeError,
        /^DiceLoss\.forward: yTrue must hold class indices from 0 to 2 \(yPred has 3 channels\) \(pass ignoreIndex to skip a void label\), got values from 0 to 255$/,
      );
      assertThrows(
        () => new losses.SoftCrossEntropyLoss().forward(x3, y),
        RangeError,
        /SoftCrossEntropyLoss\.forward: yTrue must hold class indices from 0 to 2 .* or ignoreIndex -100, got values from 0 to 255/,
      );
      assert.ok(Number.isFinite(new losses.DiceLoss('multiclass', { ignoreIndex: 255 }).forward(x3, y).item()), 'fine once 255 is ignored');
    });
  });
});
