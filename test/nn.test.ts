// torch.nn on a nested ResNet-style model against PyTorch 1.13 (scripts/fixtures/
// make_nn_fixtures.py builds the same one): state-dict keys, order, shapes and dtypes, default
// initialisation for the same seed (exact: same generator, same kernels, same order), forward
// values in train and eval mode with BatchNorm's running statistics, gradients, repr(); the
// nn.init functions; and Module behaviour: state-dict round trips through safetensors, strict
// and non-strict loading, train/eval, zeroGrad, freezing, to(), apply, dispose. Single layers
// are in nn-layers.test.ts. Every test runs through tensorTest: it fails if a tensor leaks.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { torch, type Tensor } from '../src/index.js';
import * as nn from '../src/torch/nn/index.js';
import { erf } from '../src/torch/nn/init.js';
import { tensorTest } from './helpers.js';
import { J, close, exact, fx, seeded, stripCounts } from './nn-fixture.js';

// ---------------------------------------------------------------- the nested model (same as the Python script)

class BasicBlock extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  relu: nn.ReLU;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  downsample: nn.Sequential | null;
  constructor(inplanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(planes));
    this.downsample =
      stride !== 1 || inplanes !== planes
        ? this.registerModule(
            'downsample',
            new nn.Sequential(new nn.Conv2d(inplanes, planes, 1, { stride, bias: false }), new nn.BatchNorm2d(planes)),
          )
        : null;
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const identity = this.downsample ? this.downsample.forward(x) : x;
      const out = this.bn2.forward(this.conv2.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x)))));
      return this.relu.forward(out.add_(identity));
    });
  }
}

class Net extends nn.Module {
  stem: nn.Sequential;
  layers: nn.ModuleList;
  heads: nn.ModuleDict;
  classifier: nn.Sequential;
  upsample: nn.Upsample;
  constructor() {
    super();
    this.stem = this.registerModule(
      'stem',
      new nn.Sequential(
        new nn.Conv2d(3, 8, 3, { padding: 1 }),
        new nn.GroupNorm(2, 8),
        new nn.SiLU({ inplace: true }),
        new nn.MaxPool2d(2),
      ),
    );
    this.layers = this.registerModule('layers', new nn.ModuleList([new BasicBlock(8, 16, 2), new BasicBlock(16, 16)]));
    this.heads = this.registerModule(
      'heads',
      new nn.ModuleDict({
        seg: new nn.Sequential(
          new nn.Conv2d(16, 8, 3, { padding: 1, paddingMode: 'reflect' }),
          new nn.BatchNorm2d(8, { momentum: null }),
          new nn.LeakyReLU({ negativeSlope: 0.2 }),
          new nn.Conv2d(8, 2, 1),
        ),
        up: new nn.ConvTranspose2d(16, 4, 4, { stride: 2, padding: 1, groups: 2 }),
      }),
    );
    this.classifier = this.registerModule(
      'classifier',
      new nn.Sequential(
        new nn.AdaptiveAvgPool2d(1),
        new nn.Flatten(),
        new nn.Linear(16, 5),
        new nn.Hardswish(),
        new nn.Identity(),
        new nn.Linear(5, 3, { bias: false }),
      ),
    );
    this.upsample = this.registerModule('upsample', new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false }));
  }

  forward(x: Tensor): { seg: Tensor; up: Tensor; cls: Tensor } {
    return torch.tidy(() => {
      let f = this.stem.forward(x) as Tensor;
      for (const block of this.layers) f = block.forward(f);
      return {
        seg: this.upsample.forward(this.heads.get('seg').forward(f)),
        up: this.heads.get('up').forward(f),
        cls: this.classifier.forward(f),
      };
    });
  }
}

describe('nested model against PyTorch', () => {
  // Compared at 1e-6 with PyTorch's direct convolution: segkit's default Winograd kernels round
  // differently (about 1e-6 relative; test/conv-winograd.test.ts), so this suite uses libtorch's.
  let winograd = true;
  before(() => {
    winograd = torch.backends.winograd.enabled;
    torch.backends.winograd.enabled = false;
  });
  after(() => {
    torch.backends.winograd.enabled = winograd;
  });
  tensorTest('state-dict keys in order, shapes, dtypes, names and parameter count', () => {
    using model = new Net();
    const sd = model.stateDict();
    assert.deepEqual(
      Object.entries(sd).map(([k, t]) => [k, [...t.shape], t.dtype]),
      J.model.keys,
    );
    assert.deepEqual(
      model.namedParameters().map(([k]) => k),
      J.model.parameters,
    );
    assert.deepEqual(
      model.namedBuffers().map(([k]) => k),
      J.model.buffers,
    );
    assert.deepEqual(
      model.namedModules().map(([k]) => k),
      J.model.modules,
    );
    assert.equal(model.numParameters(), J.model.numParameters);
  });

  tensorTest("toString() is PyTorch's repr plus the parameter count", () => {
    using model = new Net();
    const s = model.toString();
    assert.equal(stripCounts(s), J.model.repr);
    assert.match(s.split('\n').at(-1)!, new RegExp(`^\\) # ${J.model.numParameters.toLocaleString('en-US')} parameters$`));
  });

  tensorTest("default initialisation for seed 0 equals PyTorch's, value for value", () => {
    using model = seeded(0, () => new Net());
    for (const [k, t] of Object.entries(model.stateDict())) exact(t, `model.init.${k}`);
  });

  tensorTest('forward in train mode, gradients, BN statistics after two batches, eval mode', () => {
    using model = seeded(0, () => new Net());
    const loss = torch.tidy(() => {
      const { seg, up, cls } = model.forward(fx('model.x'));
      close(seg, 'model.train1.seg');
      close(up, 'model.train1.up');
      close(cls, 'model.train1.cls');
      return seg.square().mean().add(up.mean()).add(cls.square().sum());
    });
    loss.backward();
    close(loss, 'model.loss');
    loss.dispose();
    for (const [k, p] of model.namedParameters()) close(p.grad!, `model.grad.${k}`);
    torch.noGrad(() =>
      torch.tidy(() => {
        const { seg, up, cls } = model.forward(fx('model.x2'));
        close(seg, 'model.train2.seg');
        close(up, 'model.train2.up');
        close(cls, 'model.train2.cls');
      }),
    );
    for (const [k, b] of model.namedBuffers()) {
      if (b.dtype === 'int64') exact(b, `model.after.${k}`);
      else close(b, `model.after.${k}`);
    }
    model.eval();
    torch.noGrad(() =>
      torch.tidy(() => {
        const { seg, up, cls } = model.forward(fx('model.x'));
        close(seg, 'model.eval.seg');
        close(up, 'model.eval.up');
        close(cls, 'model.eval.cls');
      }),
    );
    model.zeroGrad();
  });
});

describe('nn.init', () => {
  const { init } = nn;
  const cases: Record<string, () => Tensor> = {
    kaiming_uniform: () => init.kaimingUniform_(torch.empty([8, 6, 3, 3])),
    kaiming_uniform_a: () => init.kaimingUniform_(torch.empty([8, 6, 3, 3]), { a: 0.2 }),
    kaiming_normal_fanout_relu: () => init.kaimingNormal_(torch.empty([8, 6, 3, 3]), { mode: 'fanOut', nonlinearity: 'relu' }),
    kaiming_normal_linear: () => init.kaimingNormal_(torch.empty([20, 30]), { nonlinearity: 'linear' }),
    xavier_uniform: () => init.xavierUniform_(torch.empty([16, 8, 3, 3])),
    xavier_uniform_gain: () => init.xavierUniform_(torch.empty([12, 20]), { gain: init.calculateGain('relu') }),
    xavier_normal: () => init.xavierNormal_(torch.empty([16, 8, 3, 3]), { gain: 0.5 }),
    trunc_normal: () => init.truncNormal_(torch.empty([64, 32])),
    trunc_normal_std: () => init.truncNormal_(torch.empty([500]), { std: 0.02 }),
    trunc_normal_ab: () => init.truncNormal_(torch.empty([1000]), { mean: 0.5, std: 1.0, a: -1.0, b: 1.5 }),
    trunc_normal_f64: () => init.truncNormal_(torch.empty([1000], { dtype: 'float64' }), { mean: -0.3, std: 0.7, a: -1.2, b: 0.4 }),
    normal: () => init.normal_(torch.empty([5, 7]), { mean: 1.0, std: 2.0 }),
    uniform: () => init.uniform_(torch.empty([5, 7]), { a: -3.0, b: 3.0 }),
    constant: () => init.constant_(torch.empty([3, 4]), 0.25),
    ones: () => init.ones_(torch.empty([2, 3])),
    zeros: () => init.zeros_(torch.empty([2, 3])),
  };
  Object.entries(cases).forEach(([name, fn], i) => {
    tensorTest(`${name} equals PyTorch's for the same seed`, () => {
      torch.tidy(() => exact(seeded(100 + i, fn), `fn.${name}`));
    });
  });

  tensorTest('works in place on parameters (under noGrad) and returns the same tensor', () => {
    const w = torch.empty([4, 3], { requiresGrad: true });
    assert.equal(init.kaimingUniform_(w), w);
    assert.equal(init.truncNormal_(w, { std: 0.02 }), w);
    assert.ok(w.isLeaf && w.requiresGrad && w.gradFn === null);
    w.dispose();
  });

  tensorTest('calculateGain matches PyTorch, snake_case names accepted too', () => {
    const g = J.gains;
    const ours: Record<string, number> = {
      linear: init.calculateGain('linear'),
      conv2d: init.calculateGain('conv2d'),
      conv_transpose2d: init.calculateGain('convTranspose2d'),
      sigmoid: init.calculateGain('sigmoid'),
      tanh: init.calculateGain('tanh'),
      relu: init.calculateGain('relu'),
      leaky_relu: init.calculateGain('leakyRelu'),
      'leaky_relu_0.2': init.calculateGain('leaky_relu', 0.2),
      leaky_relu_sqrt5: init.calculateGain('leakyRelu', Math.sqrt(5)),
      selu: init.calculateGain('selu'),
    };
    assert.deepEqual(ours, g);
  });

  tensorTest("erf equals Python's math.erf (1 ulp allowed where V8's and glibc's exp differ)", () => {
    for (const [x, y] of J.erf as [number, number][]) {
      const a = Math.abs(x);
      if (a >= 1.25 && a < 1 / 0.35) assert.ok(Math.abs(erf(x) - y) <= 2.3e-16 * Math.abs(y), `erf(${x}) = ${erf(x)}, Python ${y}`);
      else assert.equal(erf(x), y, `erf(${x})`);
    }
  });

  tensorTest('errors name the function and the problem', () => {
    torch.tidy(() => {
      assert.throws(
        () => init.kaimingUniform_(torch.empty([5])),
        /init\.kaimingUniform_: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions \(shape \[5\]\)/,
      );
      assert.throws(
        () => init.kaimingNormal_(torch.empty([2, 2]), { mode: 'fan' as never }),
        /mode must be 'fanIn' or 'fanOut', got 'fan'/,
      );
      assert.throws(() => init.calculateGain('swish' as never), TypeError);
      assert.throws(() => init.xavierUniform_(torch.empty([2, 2]), { gian: 2 } as never), /unknown option 'gian'/);
      assert.throws(() => init.uniform_(null as never), TypeError);
    });
  });
});

describe('Module behaviour', () => {
  tensorTest('stateDict -> saveSafetensors -> loadSafetensors -> loadStateDict gives identical outputs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segkit-nn-'));
    try {
      using a = seeded(0, () => new Net());
      using b = seeded(1, () => new Net());
      torch.tidy(() => {
        a.forward(fx('model.x')); // a training forward moves the BN statistics off their defaults
      });
      a.eval();
      b.eval();
      torch.saveSafetensors(join(dir, 'm.safetensors'), a.stateDict());
      const loaded = torch.loadSafetensors(join(dir, 'm.safetensors'));
      const result = b.loadStateDict(loaded);
      torch.dispose(loaded);
      assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [] });
      torch.noGrad(() =>
        torch.tidy(() => {
          const ya = a.forward(fx('model.x'));
          const yb = b.forward(fx('model.x'));
          for (const k of ['seg', 'up', 'cls'] as const) exact(yb[k], ya[k], k);
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  tensorTest('loadStateDict: strict errors name missing, unexpected and mis-shaped keys; non-strict loads the rest', () => {
    using model = seeded(0, () => new Net());
    using src = seeded(1, () => new Net());
    const dict = { ...src.stateDict() };
    delete dict['stem.0.bias'];
    const extra = torch.zeros([3]);
    const wrong = torch.zeros([4, 16, 3, 3]);
    dict['extra.weight'] = extra;
    dict['heads.seg.3.weight'] = wrong;
    assert.throws(
      () => model.loadStateDict(dict),
      (e: Error) => {
        assert.match(e.message, /missing keys: stem\.0\.bias/);
        assert.match(e.message, /unexpected keys: extra\.weight/);
        assert.match(e.message, /size mismatch for heads\.seg\.3\.weight: expected \[2, 8, 1, 1\], got \[4, 16, 3, 3\]/);
        return true;
      },
    );
    const before = model.getModule('stem')!.getModule('0')!.getParameter('bias')!.clone();
    const seg3 = (model.heads.get('seg') as nn.Sequential).at(3) as nn.Conv2d;
    const seg3Before = seg3.weight.clone();
    const r = model.loadStateDict(dict, { strict: false });
    assert.deepEqual(r.missingKeys, ['stem.0.bias']);
    assert.deepEqual(r.unexpectedKeys, ['extra.weight']);
    assert.deepEqual(
      r.mismatchedKeys.map((m) => m.key),
      ['heads.seg.3.weight'],
    );
    exact(model.layers.at(0).getModule('conv1')!.getParameter('weight')!, dict['layers.0.conv1.weight']!, 'loaded');
    exact((model.stem.at(0) as nn.Conv2d).bias!, before, 'missing key left alone');
    exact(seg3.weight, seg3Before, 'mis-shaped key left alone');
    torch.dispose([before, seg3Before, extra, wrong]);
  });

  tensorTest('train() and eval() reach every module; Dropout is the identity in eval', () => {
    using model = new nn.Sequential(new nn.Conv2d(1, 1, 1), new nn.Sequential(new nn.Dropout({ p: 0.9 }), new nn.BatchNorm2d(1)));
    assert.ok(model.modules().every((m) => m.training));
    model.eval();
    assert.ok(model.modules().every((m) => !m.training));
    torch.tidy(() => {
      const x = torch.ones([1, 1, 2, 2]);
      exact((model.at(1) as nn.Sequential).at(0).forward(x), x, 'dropout in eval');
    });
    model.train();
    assert.ok(model.modules().every((m) => m.training));
  });

  tensorTest('zeroGrad clears gradients (to null, or zeros with setToNone false)', () => {
    using model = new nn.Sequential(new nn.Linear(3, 2), new nn.ReLU(), new nn.Linear(2, 1));
    const step = () =>
      torch.tidy(() =>
        model
          .forward(torch.ones([4, 3]))
          .sum()
          .backward(),
      );
    step();
    assert.ok(model.parameters().every((p) => p.grad !== null));
    model.zeroGrad({ setToNone: false });
    torch.tidy(() => assert.ok(model.parameters().every((p) => p.grad !== null && p.grad.abs().sum().item() === 0)));
    step();
    model.zeroGrad();
    assert.ok(model.parameters().every((p) => p.grad === null));
  });

  tensorTest('requiresGrad_(false) freezes every parameter; true thaws them', () => {
    using model = seeded(0, () => new Net());
    model.requiresGrad_(false);
    assert.equal(model.numParameters({ trainable: true }), 0);
    torch.tidy(() => assert.equal(model.forward(fx('model.x')).cls.requiresGrad, false));
    model.requiresGrad_(true);
    assert.equal(model.numParameters({ trainable: true }), J.model.numParameters);
  });

  tensorTest('to({ dtype: float64 }) converts values in place: same handles, int64 buffers untouched', () => {
    using model = seeded(0, () => new Net());
    const params = model.parameters();
    const conv = model.stem.at(0) as nn.Conv2d;
    const weight = conv.weight;
    const before = torch.tidy(() => Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.double()])));
    model.to({ dtype: 'float64' });
    assert.ok(
      model.parameters().every((p, i) => p === params[i]),
      'same parameter objects',
    );
    assert.equal(conv.weight, weight);
    for (const [k, t] of Object.entries(model.stateDict())) {
      assert.equal(t.dtype, k.endsWith('num_batches_tracked') ? 'int64' : 'float64', k);
      if (t.dtype === 'float64') exact(t, before[k]!, k);
      assert.equal(
        t.requiresGrad,
        model.namedParameters().some(([n]) => n === k),
        `${k}: requiresGrad kept`,
      );
    }
    torch.tidy(() => assert.equal(model.forward(fx('model.x').double()).seg.dtype, 'float64'));
    torch.dispose(before);
  });

  tensorTest('to({ memoryFormat: channelsLast }) makes 4-D parameters channels-last, same values', () => {
    using model = seeded(0, () => new Net());
    model.eval();
    const expected = torch.noGrad(() => model.forward(fx('model.x')));
    model.to({ memoryFormat: 'channelsLast' });
    for (const [k, t] of Object.entries(model.stateDict())) {
      if (t.ndim === 4)
        assert.ok(
          t.isContiguous({ memoryFormat: 'channelsLast' }) && (t.shape[2]! * t.shape[3]! === 1 || !t.isContiguous()),
          `${k} channels-last`,
        );
      else assert.ok(t.isContiguous(), `${k} untouched`);
    }
    torch.noGrad(() =>
      torch.tidy(() => {
        const y = model.forward(fx('model.x'));
        for (const k of ['seg', 'up', 'cls'] as const) assert.ok(torch.allclose(y[k], expected[k], { atol: 1e-5, rtol: 1e-5 }), k);
      }),
    );
    torch.dispose(expected);
  });

  tensorTest('apply visits children before their parent, every module once', () => {
    using model = seeded(0, () => new Net());
    const seen: nn.Module[] = [];
    model.apply((m) => {
      seen.push(m);
      if (m instanceof nn.Conv2d && m.bias) nn.init.zeros_(m.bias);
    });
    assert.equal(seen.length, model.namedModules().length);
    assert.equal(seen.at(-1), model);
    assert.ok(seen.indexOf(model.stem) > seen.indexOf(model.stem.at(0)));
    torch.tidy(() => assert.equal((model.stem.at(0) as nn.Conv2d).bias!.abs().sum().item(), 0));
  });

  tensorTest('modules built inside tidy survive it; dispose() frees parameters, buffers and gradients', () => {
    const start = torch.liveTensors();
    const model = torch.tidy(() => seeded(0, () => new Net()));
    const count = model.parameters().length + model.buffers().length;
    assert.equal(torch.liveTensors() - start, count);
    torch.tidy(() => {
      const { seg, up, cls } = model.forward(fx('model.x'));
      seg.sum().add(up.sum()).add(cls.sum()).backward();
    });
    assert.ok(model.parameters().every((p) => p.grad !== null));
    assert.equal(torch.liveTensors() - start, count + model.parameters().length, 'one gradient handle per parameter');
    model.dispose();
    assert.equal(torch.liveTensors(), start);
    model.dispose();
  });
});
