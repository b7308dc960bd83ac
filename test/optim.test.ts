// torch.optim against PyTorch 1.13: a small conv + batch-norm net trained 20 steps by each
// optimizer (SGD, Adam, AdamW + cosine, RMSprop, param groups, amsgrad, OneCycleLR, gradient
// clipping) from the same weights and data as scripts/fixtures/make_optim_fixtures.py, checking
// the losses, the state dict after 10 steps, the final parameters and the running stats; resuming
// from a state dict; gradient clipping; SWA and EMA values; option errors; and memory (every
// test runs through tensorTest, and step() must keep the live-tensor count flat).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, F, type Tensor } from '../src/index.js';
import {
  SGD,
  Adam,
  AdamW,
  RMSprop,
  CosineAnnealingLR,
  clipGradNorm_,
  AveragedModel,
  updateBn,
  ModelEma,
  type OptimizerStateDict,
} from '../src/torch/optim/index.js';
import { assertThrows, maxAbsDiff, tensorTest } from './helpers.js';
import {
  CASES,
  N_PARAMS,
  TOL,
  checkFinal,
  checkStateDict,
  checkpoint,
  disposeNet,
  forward,
  fx,
  inits,
  makeNet,
  near,
  snap,
  train,
} from './optim-fixture.js';

describe('optimizers match PyTorch 1.13 over 20 training steps', () => {
  for (const [name, c] of Object.entries(CASES)) {
    tensorTest(`${name}: losses, state dict after 10 steps, final parameters and running stats`, () => {
      const net = makeNet();
      const opt = c.opt(net.params);
      const sched = c.sched?.(opt);
      const run = train(net, opt, 20, {
        sched,
        clip: c.clip,
        onStep: (i) => {
          if (i === 9) checkStateDict(name, opt.stateDict());
        },
      });
      checkFinal(name, net, run);
      opt.dispose();
      disposeNet(net);
    });
  }
});

describe('resuming from state dicts', () => {
  for (const name of ['sgd_nesterov', 'adam', 'adamw_cosine', 'rmsprop', 'adam_amsgrad', 'adamw_onecycle', 'sgd_groups']) {
    tensorTest(`${name}: 10 steps, save, new optimizer + loadStateDict, 10 more = PyTorch's 20 straight`, () => {
      const c = CASES[name]!;
      const net1 = makeNet();
      const opt1 = c.opt(net1.params);
      const sched1 = c.sched?.(opt1);
      const first = train(net1, opt1, 10, { sched: sched1 });
      const ck = checkpoint(net1, opt1, sched1);
      opt1.dispose();
      disposeNet(net1);

      const net2 = makeNet((k) => ck.weights[k]!);
      net2.rm.copy_(ck.weights[N_PARAMS]!);
      net2.rv.copy_(ck.weights[N_PARAMS + 1]!);
      net2.nbt = ck.nbt;
      const opt2 = c.opt(net2.params);
      const sched2 = c.sched?.(opt2);
      opt2.loadStateDict(ck.opt);
      if (sched2) sched2.loadStateDict(ck.sched!);
      torch.dispose([ck.weights, Object.values(ck.opt.state).map((e) => Object.values(e))]);
      const second = train(net2, opt2, 10, { sched: sched2 });
      checkFinal(name, net2, { losses: [...first.losses, ...second.losses], norms: [] });
      opt2.dispose();
      disposeNet(net2);
    });
  }

  tensorTest('the scheduler state may be loaded before the optimizer state, and a PyTorch-style tensor step is accepted', () => {
    const net = makeNet();
    const opt = new AdamW(net.params, { lr: 1e-2, weightDecay: 0.05 });
    const sched = new CosineAnnealingLR(opt, { tMax: 20 });
    train(net, opt, 10, { sched });
    const ck = checkpoint(net, opt, sched);
    const opt2 = new AdamW(net.params, { lr: 1e-2, weightDecay: 0.05 });
    const sched2 = new CosineAnnealingLR(opt2, { tMax: 20 });
    sched2.loadStateDict(ck.sched!);
    assert.equal(opt2.paramGroups[0]!.lr, opt.paramGroups[0]!.lr, 'loading the scheduler restores the lr');
    const steps = torch.tidy(() =>
      Object.fromEntries(Object.entries(ck.opt.state).map(([k, e]) => [k, { ...e, step: torch.tensor(e.step as number) }])),
    );
    opt2.loadStateDict({ state: steps, param_groups: ck.opt.param_groups });
    assert.equal(opt2.stateDict().state[0]!.step, 10);
    assert.deepEqual(opt2.paramGroups[0], { ...opt.paramGroups[0], params: opt2.paramGroups[0]!.params });
    torch.dispose([ck.weights, steps, Object.values(ck.opt.state).map((e) => Object.values(e))]);
    opt.dispose();
    opt2.dispose();
    disposeNet(net);
  });

  tensorTest('loadStateDict validates group counts, sizes and shapes, and changes nothing on error', () => {
    const net = makeNet();
    const opt = new Adam(net.params, { lr: 1e-2 });
    train(net, opt, 2);
    const sd = opt.stateDict();
    const other = new Adam([{ params: net.params.slice(0, 3) }, { params: net.params.slice(3) }]);
    assertThrows(
      () => other.loadStateDict(sd),
      RangeError,
      /Adam\.loadStateDict: the state dict has 1 parameter groups, this optimizer has 2/,
    );
    const fewer = new Adam(net.params.slice(1));
    assertThrows(() => fewer.loadStateDict(sd), RangeError, /parameter group 0 has 5 parameters in the state dict but 4 in this optimizer/);
    const swapped = { state: { 0: sd.state[1]!, 1: sd.state[0]! }, param_groups: sd.param_groups };
    const fresh = new Adam(net.params);
    assertThrows(
      () => fresh.loadStateDict(swapped),
      RangeError,
      /state\[0\]\.exp_avg has shape \[8\] but its parameter has shape \[8, 3, 3, 3\]/,
    );
    assert.equal(fresh.state.size, 0, 'nothing loaded');
    assertThrows(
      () => fresh.loadStateDict({} as OptimizerStateDict),
      TypeError,
      /the state dict must be \{ state, param_groups \}, got an object/,
    );
    const bad = { state: {}, param_groups: [{ ...sd.param_groups[0], lr: -1 }] };
    assertThrows(() => fresh.loadStateDict(bad), RangeError, /lr must be a non-negative number, got -1/);
    // Loading its own state dict (whose tensors it owns) works: values are copied before the old state goes.
    const before = torch.tidy(() => (opt.state.get(net.params[0]!)!.exp_avg as Tensor).clone());
    opt.loadStateDict(opt.stateDict());
    assert.equal(maxAbsDiff(opt.state.get(net.params[0]!)!.exp_avg as Tensor, before), 0);
    torch.dispose(before);
    for (const o of [opt, other, fewer, fresh]) o.dispose();
    disposeNet(net);
  });
});

describe('optimizer behaviour', () => {
  tensorTest('param groups keep their own options and inherit the rest', () => {
    const net = makeNet();
    const opt = new SGD(
      [
        { params: net.params.slice(0, 2), lr: 0.05 },
        { params: net.params.slice(2), momentum: 0.5, dampening: 0.1 },
      ],
      { lr: 0.1, momentum: 0.9 },
    );
    assert.equal(opt.paramGroups[0]!.lr, 0.05);
    assert.equal(opt.paramGroups[0]!.momentum, 0.9);
    assert.equal(opt.paramGroups[1]!.lr, 0.1);
    assert.equal(opt.paramGroups[1]!.dampening, 0.1);
    assert.deepEqual(
      opt.stateDict().param_groups.map((g) => g.params),
      [
        [0, 1],
        [2, 3, 4],
      ],
    );
    opt.dispose();
    disposeNet(net);
  });

  tensorTest('parameters without a gradient are skipped and get no state', () => {
    const net = makeNet();
    const extra = torch.ones([3], { requiresGrad: true });
    const opt = new Adam([...net.params, extra], { lr: 0.1 });
    train(net, opt, 2);
    assert.equal(extra.grad, null);
    assert.deepEqual(Array.from(extra.toArray() as Float32Array), [1, 1, 1]);
    assert.equal(opt.state.has(extra), false);
    assert.equal(opt.state.size, N_PARAMS);
    opt.dispose();
    disposeNet(net);
    extra.dispose();
  });

  tensorTest('zeroGrad sets gradients to null by default, or zeroes them with setToNone: false', () => {
    const net = makeNet();
    const opt = new SGD(net.params, { lr: 0.1 });
    torch.tidy(() => forward(net).backward());
    opt.zeroGrad({ setToNone: false });
    assert.equal(
      torch.tidy(() => net.params[0]!.grad!.abs().sum().item()),
      0,
    );
    opt.zeroGrad();
    assert.ok(net.params.every((p) => p.grad === null));
    assertThrows(() => opt.zeroGrad({ setToNone: true, foo: 1 } as never), TypeError, /unknown option 'foo'/);
    opt.dispose();
    disposeNet(net);
  });

  tensorTest('maximize follows the gradient upward: the same as minimizing the negated loss', () => {
    for (const make of [
      (p: Tensor[], m: boolean) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, maximize: m }),
      (p: Tensor[], m: boolean) => new Adam(p, { lr: 1e-2, weightDecay: 1e-3, amsgrad: true, maximize: m }),
      (p: Tensor[], m: boolean) => new RMSprop(p, { lr: 1e-3, momentum: 0.5, centered: true, maximize: m }),
    ]) {
      const a = makeNet();
      const b = makeNet();
      const oa = make(a.params, true);
      const ob = make(b.params, false);
      train(a, oa, 5);
      train(b, ob, 5, { sign: -1 });
      a.params.forEach((p, k) => assert.equal(maxAbsDiff(p, b.params[k]!), 0, `${oa.name} param ${k}`));
      oa.dispose();
      ob.dispose();
      disposeNet(a);
      disposeNet(b);
    }
  });

  tensorTest('step() keeps the live-tensor count flat after the first step; dispose() frees the state', () => {
    for (const make of [
      (p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4, maximize: true }),
      (p: Tensor[]) => new Adam(p, { lr: 1e-3, weightDecay: 1e-4, amsgrad: true }),
      (p: Tensor[]) => new AdamW(p, { lr: 1e-3 }),
      (p: Tensor[]) => new RMSprop(p, { lr: 1e-3, momentum: 0.5, centered: true, weightDecay: 1e-4 }),
    ]) {
      const net = makeNet();
      const start = torch.liveTensors();
      const opt = make(net.params);
      torch.tidy(() => forward(net).backward());
      opt.step();
      const afterFirst = torch.liveTensors();
      assert.ok(afterFirst > start, `${opt.name}: the first step creates state`);
      for (let i = 0; i < 5; i++) opt.step();
      assert.equal(torch.liveTensors(), afterFirst, `${opt.name}: steps leak`);
      opt.dispose();
      assert.equal(opt.state.size, 0);
      opt.zeroGrad();
      assert.equal(torch.liveTensors(), start, `${opt.name}: dispose frees the state`);
      disposeNet(net);
    }
  });

  tensorTest('step(closure) runs the closure with grad enabled and returns its value', () => {
    const net = makeNet();
    const opt = new SGD(net.params, { lr: 0.1 });
    const loss = torch.noGrad(() =>
      opt.step(() =>
        torch.tidy(() => {
          opt.zeroGrad();
          const l = forward(net);
          l.backward();
          return l.item();
        }),
      ),
    );
    assert.ok(Math.abs(loss! - (fx('sgd_plain.losses').toArray() as Float64Array)[0]!) < TOL);
    opt.dispose();
    disposeNet(net);
  });
});

describe('option errors', () => {
  tensorTest('bad values name the optimizer, the option, what was expected and what came', () => {
    const p = [torch.zeros([2], { requiresGrad: true })];
    assertThrows(() => new SGD(p, { lr: -1 }), RangeError, /^SGD: lr must be a non-negative number, got -1$/);
    assertThrows(() => new SGD(p, { lr: '0.1' as never }), TypeError, /^SGD: lr must be a non-negative number, got '0\.1'$/);
    assertThrows(() => new SGD(p), TypeError, /SGD: param group 0: lr is required/);
    assertThrows(
      () => new SGD(p, { lr: 0.1, nesterov: true }),
      RangeError,
      /SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0/,
    );
    assertThrows(() => new SGD(p, { lr: 0.1, momentum: -0.5 }), RangeError, /SGD: momentum must be a non-negative number, got -0\.5/);
    assertThrows(
      () => new SGD(p, { lr: 0.1, weight_decay: 1 } as never),
      TypeError,
      /SGD: unknown option 'weight_decay' \(known: lr, momentum, dampening, weightDecay/,
    );
    assertThrows(() => new Adam(p, { betas: [1, 0.999] }), RangeError, /^Adam: betas\[0\] must be a number in \[0, 1\), got 1$/);
    assertThrows(() => new Adam(p, { betas: [0.9] as never }), TypeError, /Adam: betas must be an array of 2 numbers, got \[0\.9\]/);
    assertThrows(() => new AdamW(p, { eps: -1 }), RangeError, /AdamW: eps must be a non-negative number, got -1/);
    assertThrows(() => new AdamW(p, { amsgrad: 1 as never }), TypeError, /AdamW: amsgrad must be true or false, got 1/);
    assertThrows(() => new RMSprop(p, { alpha: -0.1 }), RangeError, /RMSprop: alpha must be a non-negative number, got -0\.1/);
    assertThrows(() => new RMSprop(p, { centered: 'yes' as never }), TypeError, /RMSprop: centered must be true or false, got 'yes'/);
    assertThrows(
      () => new SGD([{ params: p, lr: -2 }], { lr: 0.1 }),
      RangeError,
      /^SGD: param group 0: lr must be a non-negative number, got -2$/,
    );
    assertThrows(() => new SGD([{ params: p, lrr: 2 }], { lr: 0.1 }), TypeError, /SGD: param group 0: unknown option 'lrr'/);
    assertThrows(() => new SGD([], { lr: 0.1 }), Error, /SGD: got an empty parameter list/);
    assertThrows(() => new SGD(p[0] as never, { lr: 0.1 }), TypeError, /SGD: params must be an array of Tensors or of param groups/);
    assertThrows(() => new SGD([p[0], 3] as never, { lr: 0.1 }), TypeError, /SGD: param group 0: params\[1\] must be a Tensor, got 3/);
    assertThrows(
      () => new SGD([{ params: p }, { params: p }], { lr: 0.1 }),
      Error,
      /param group 1: some parameters appear in more than one parameter group/,
    );
    assertThrows(() => new SGD([p[0]!, p[0]!], { lr: 0.1 }), Error, /the same tensor appears twice/);
    torch.tidy(() => {
      const nonLeaf = p[0]!.mul(2);
      assertThrows(() => new SGD([nonLeaf], { lr: 0.1 }), Error, /params\[0\] is not a leaf tensor/);
    });
    const opt = new SGD(p, { lr: 0.1 });
    const q = torch.zeros([1]);
    assertThrows(
      () => opt.addParamGroup({ params: [q], momentum: -1 }),
      RangeError,
      /SGD: param group 1: momentum must be a non-negative number, got -1/,
    );
    assert.equal(opt.paramGroups.length, 1);
    torch.dispose([p, q]);
  });
});

describe('clipGradNorm_', () => {
  for (const [name, maxNorm, normType] of [
    ['l2', 0.1, 2],
    ['l1', 0.5, 1],
    ['inf', 0.05, Infinity],
    ['p3', 0.2, 3],
    ['noclip', 100, 2],
  ] as const) {
    tensorTest(`${name}: total norm and clipped gradients equal PyTorch's`, () => {
      const net = makeNet();
      torch.tidy(() => forward(net).backward());
      const total = clipGradNorm_(net.params, maxNorm, { normType });
      const expected = fx(`clip.${name}.total`).item();
      assert.ok(Math.abs(total - expected) <= 1e-6 * expected, `total ${total} vs PyTorch ${expected}`);
      net.params.forEach((p, k) => near(p.grad!, `clip.${name}.grad.${k}`, 1e-7));
      disposeNet(net);
    });
  }

  tensorTest('no gradients gives 0; a non-finite norm throws with errorIfNonfinite; bad arguments', () => {
    const a = torch.ones([3], { requiresGrad: true });
    assert.equal(clipGradNorm_([a], 1), 0);
    torch.tidy(() => a.mul(Infinity).sum().backward());
    assertThrows(
      () => clipGradNorm_(a, 1, { errorIfNonfinite: true }),
      Error,
      /clipGradNorm_: the total norm of order 2 of the gradients is (Infinity|NaN)/,
    );
    assertThrows(() => clipGradNorm_([a], 1, { norm: 2 } as never), TypeError, /unknown option 'norm'/);
    assertThrows(() => clipGradNorm_([a], '1' as never), TypeError, /maxNorm must be a number/);
    assertThrows(() => clipGradNorm_(5 as never, 1), TypeError, /params must be a Tensor or an array of Tensors/);
    a.dispose();
  });
});

describe('SWA and EMA', () => {
  tensorTest("AveragedModel: the equal average of the snapshots, as PyTorch's AveragedModel", () => {
    const swa = new AveragedModel(inits());
    for (let i = 0; i < 4; i++) swa.updateParameters(snap(i));
    assert.equal(swa.nAveraged, Number(fx('swa.n_averaged').item()));
    swa.averaged.forEach((a, k) => near(a, `swa.avg.${k}`, 1e-6));
    const into = torch.tidy(() => inits().map((t) => t.clone()));
    swa.copyTo(into);
    into.forEach((t, k) => near(t, `swa.avg.${k}`, 1e-6));
    // A custom average: the last value only.
    const last = new AveragedModel(inits(), { avgFn: (_avg, cur) => cur.clone() });
    for (let i = 0; i < 3; i++) last.updateParameters(snap(i));
    last.averaged.forEach((a, k) => assert.equal(maxAbsDiff(a, snap(2)[k]!), 0));
    const sd = swa.stateDict();
    last.loadStateDict(sd);
    assert.equal(last.nAveraged, 4);
    assertThrows(() => swa.updateParameters(snap(0).slice(1)), RangeError, /AveragedModel\.updateParameters: expected 5 tensors, got 4/);
    assertThrows(() => swa.copyTo([...snap(0).slice(1), snap(0)[0]!]), RangeError, /tensor 0 has shape \[8\], expected \[8, 3, 3, 3\]/);
    swa.dispose();
    last.dispose();
    torch.dispose(into);
  });

  tensorTest('ModelEma: lerp towards the weights, plain and with the warm-up decay', () => {
    for (const [name, opts] of [
      ['plain', { decay: 0.9 }],
      ['warmup', { decay: 0.999, warmup: true, warmupPower: 0.75 }],
    ] as const) {
      const ema = new ModelEma(inits(), opts);
      for (let i = 0; i < 4; i++) ema.update(snap(i));
      assert.equal(ema.numUpdates, 4);
      ema.shadow.forEach((s, k) => near(s, `ema.${name}.${k}`, 1e-6));
      const into = torch.tidy(() => inits().map((t) => t.clone()));
      ema.copyTo(into);
      into.forEach((t, k) => near(t, `ema.${name}.${k}`, 1e-6));
      torch.dispose(into);
      ema.dispose();
    }
    const ema = new ModelEma(inits(), { decay: 0.99, warmup: true });
    assert.ok(Math.abs(ema.decayAt(1) - (1 - 2 ** (-2 / 3))) < 1e-15);
    assert.equal(ema.decayAt(1e9), 0.99);
    const count = torch.tensor([3], { dtype: 'int64' });
    const withBuffer = new ModelEma([count], { decay: 0.5 });
    const seven = torch.tensor([7], { dtype: 'int64' });
    withBuffer.update([seven]);
    assert.equal(Number(withBuffer.shadow[0]!.item()), 7, 'integer tensors are copied');
    assertThrows(() => new ModelEma(inits(), { decay: 2 }), RangeError, /ModelEma: decay must be a number from 0 to 1, got 2/);
    assertThrows(() => new ModelEma(inits(), { decy: 0.9 } as never), TypeError, /ModelEma: unknown option 'decy'/);
    const loaded = new ModelEma(inits());
    loaded.loadStateDict(ema.stateDict());
    assert.equal(loaded.numUpdates, 0);
    torch.dispose([count, seven]);
    for (const e of [ema, withBuffer, loaded]) e.dispose();
  });

  tensorTest("updateBn recomputes BN statistics as the equal average over the loader, as PyTorch's update_bn", () => {
    // A stand-in for a module: conv + a batch norm that averages cumulatively when momentum is null.
    const bn = {
      runningMean: torch.full([4], 5),
      runningVar: torch.full([4], 7),
      numBatchesTracked: torch.tensor(0, { dtype: 'int64' }),
      momentum: 0.1 as number | null,
    };
    let mode = false;
    const model = {
      training: false,
      modules: () => [model, { notBn: true }, bn],
      train(m = true) {
        mode = m;
        model.training = m;
        return model;
      },
      forward(x: Tensor) {
        bn.numBatchesTracked.add_(1);
        const factor = bn.momentum ?? 1 / Number(bn.numBatchesTracked.item());
        const h = F.conv2d(x, fx('update_bn.conv.weight'), { bias: fx('update_bn.conv.bias'), padding: 1 });
        return F.batchNorm(h, bn.runningMean, bn.runningVar, { training: mode, momentum: factor });
      },
    };
    const batches = [0, 1, 2].map((i) => [fx(`update_bn.batch.${i}`), null] as const);
    updateBn(batches, model);
    near(bn.runningMean, 'update_bn.running_mean', 1e-5);
    near(bn.runningVar, 'update_bn.running_var', 1e-4);
    assert.equal(Number(bn.numBatchesTracked.item()), Number(fx('update_bn.num_batches_tracked').item()));
    assert.equal(bn.momentum, 0.1, 'momentum restored');
    assert.equal(model.training, false, 'mode restored');
    assertThrows(
      () => updateBn([3 as never], model),
      TypeError,
      /updateBn: each batch must be a Tensor, an array starting with one, or \{ image \}, got 3/,
    );
    assertThrows(
      () => updateBn([], {} as never),
      TypeError,
      /updateBn: model must be an object with modules\(\), train\(\) and forward\(\)/,
    );
    torch.dispose([bn.runningMean, bn.runningVar, bn.numBatchesTracked]);
  });
});
