// ReduceLROnPlateau, LambdaLR, MultiplicativeLR and CyclicLR against PyTorch 1.13: the lr of
// every group (and group 0's momentum or beta1) before each of 60 steps, the state dict after
// 20 steps (PyTorch's keys and values), and resuming from a round trip of that state dict. The
// sequences come from test/fixtures/optim/schedulers_more.json (scripts/fixtures/make_scheduler_fixtures.py).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, type Tensor } from '../src/index.js';
import {
  SGD,
  Adam,
  LambdaLR,
  MultiplicativeLR,
  CyclicLR,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
  type Optimizer,
} from '../src/torch/optim/index.js';
import { FIXTURES, assertThrows, tensorTest } from './helpers.js';
import { close, momentumOf, sameState } from './scheduler-parity.js';

interface PySchedule {
  lrs: number[][];
  momentum: number[];
  state_mid: Record<string, unknown>;
}
const J = JSON.parse(readFileSync(join(FIXTURES, 'optim', 'schedulers_more.json'), 'utf8')) as {
  steps: number;
  mid: number;
  metrics: number[];
  metrics_max: number[];
  schedulers: Record<string, PySchedule>;
};
const STEPS = J.steps;
const MID = J.mid;

interface Sched {
  step(metric: number): void;
  stateDict(): Record<string, unknown>;
  loadStateDict(sd: Record<string, unknown>): void;
  getLastLr(): number[];
}
type MakeOpt = () => { opt: Optimizer<any>; params: Tensor[] };

function sgd(lrs = [0.1]): { opt: Optimizer<any>; params: Tensor[] } {
  const params = lrs.map(() => torch.zeros([1], { requiresGrad: true }));
  return {
    opt: new SGD(
      params.map((p, i) => ({ params: [p], lr: lrs[i] })),
      { lr: lrs[0], momentum: 0.9 },
    ),
    params,
  };
}
const sgd2 = (): ReturnType<typeof sgd> => sgd([0.1, 0.02]);
function adam(): { opt: Optimizer<any>; params: Tensor[] } {
  const params = [torch.zeros([1], { requiresGrad: true })];
  return { opt: new Adam(params, { lr: 1e-3 }), params };
}

const CASES: Record<string, [MakeOpt, (o: Optimizer<any>) => Sched, number[]?]> = {
  plateau: [sgd, (o) => new ReduceLROnPlateau(o, { factor: 0.5, patience: 3 }), J.metrics],
  plateau_defaults: [sgd, (o) => new ReduceLROnPlateau(o, { patience: 2 }), J.metrics],
  plateau_cooldown: [sgd2, (o) => new ReduceLROnPlateau(o, { factor: 0.3, patience: 1, cooldown: 3, minLr: [0.01, 0.001] }), J.metrics],
  plateau_abs: [
    sgd,
    (o) => new ReduceLROnPlateau(o, { factor: 0.7, patience: 2, threshold: 0.005, thresholdMode: 'abs', minLr: 0.02 }),
    J.metrics,
  ],
  plateau_max: [
    sgd2,
    (o) => new ReduceLROnPlateau(o, { mode: 'max', factor: 0.2, patience: 2, threshold: 0.01, cooldown: 1, minLr: 1e-3 }),
    J.metrics_max,
  ],
  plateau_max_abs: [
    sgd,
    (o) => new ReduceLROnPlateau(o, { mode: 'max', factor: 0.5, patience: 0, threshold: 0.001, thresholdMode: 'abs' }),
    J.metrics_max,
  ],
  plateau_eps: [sgd, (o) => new ReduceLROnPlateau(o, { factor: 0.5, patience: 1, eps: 0.01 }), J.metrics],
  lambda: [sgd, (o) => new LambdaLR(o, { lrLambda: (e) => 0.95 ** e })],
  lambda_groups: [sgd2, (o) => new LambdaLR(o, { lrLambda: [(e) => 1.0 / (1 + Math.floor(e / 5)), (e) => Math.min(1.0, (e + 1) / 10)] })],
  multiplicative: [sgd, (o) => new MultiplicativeLR(o, { lrLambda: () => 0.95 })],
  multiplicative_groups: [
    sgd2,
    (o) => new MultiplicativeLR(o, { lrLambda: [(e) => (e % 3 === 0 ? 0.9 : 1.0), (e) => 1.0 - 0.01 * (e % 4)] }),
  ],
  cyclic: [sgd, (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 5 })],
  cyclic_tri2: [
    sgd2,
    (o) =>
      new CyclicLR(o, {
        baseLr: [0.01, 0.001],
        maxLr: [0.1, 0.05],
        stepSizeUp: 4,
        stepSizeDown: 6,
        mode: 'triangular2',
        baseMomentum: [0.8, 0.85],
        maxMomentum: [0.95, 0.9],
      }),
  ],
  cyclic_exp: [sgd, (o) => new CyclicLR(o, { baseLr: 0.001, maxLr: 0.1, stepSizeUp: 3, stepSizeDown: 7, mode: 'exp_range', gamma: 0.97 })],
  cyclic_fn_cycle: [
    sgd,
    (o) =>
      new CyclicLR(o, {
        baseLr: 0.01,
        maxLr: 0.1,
        stepSizeUp: 4,
        scaleFn: (x) => 0.5 * (1 + Math.sin((x * Math.PI) / 2)),
        scaleMode: 'cycle',
      }),
  ],
  cyclic_fn_iter: [
    sgd,
    (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 5, scaleFn: (x) => 1 / (1 + 0.05 * x), scaleMode: 'iterations' }),
  ],
  cyclic_adam: [adam, (o) => new CyclicLR(o, { baseLr: 1e-4, maxLr: 1e-3, stepSizeUp: 6, cycleMomentum: false })],
};

function follow(name: string, opt: Optimizer<any>, s: Sched, from: number, to: number, py: PySchedule, metrics?: number[]): void {
  for (let i = from; i < to; i++) {
    opt.paramGroups.forEach((grp, g) => close(grp.lr, py.lrs[i]![g]!, `${name}: paramGroups[${g}].lr before step ${i}`));
    if (i > 0) s.getLastLr().forEach((lr, g) => close(lr, py.lrs[i]![g]!, `${name}: getLastLr()[${g}] before step ${i}`));
    close(momentumOf(opt), py.momentum[i]!, `${name}: momentum before step ${i}`);
    if (metrics) s.step(metrics[i]!);
    else (s as unknown as { step(): void }).step();
  }
}

/** A JSON round trip that keeps infinities (as the checkpoint code's tags do). */
const roundTrip = <T>(v: T): T =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : x))) as T;

describe('lr sequences match PyTorch 1.13 (ReduceLROnPlateau, LambdaLR, MultiplicativeLR, CyclicLR)', () => {
  for (const [name, [makeOpt, makeSched, metrics]] of Object.entries(CASES)) {
    tensorTest(`${name}: ${STEPS} steps, the state dict after ${MID}, and resuming from it`, () => {
      const py = J.schedulers[name]!;
      const a = makeOpt();
      const sa = makeSched(a.opt);
      follow(name, a.opt, sa, 0, MID, py, metrics);
      const sd = roundTrip(sa.stateDict());
      sameState(sd, py.state_mid, `${name}.stateDict()`);
      const optSd = JSON.parse(JSON.stringify(a.opt.stateDict())) as ReturnType<Optimizer['stateDict']>;
      follow(name, a.opt, sa, MID, STEPS, py, metrics);

      // Resume: fresh optimizer and scheduler, the optimizer's state, then the scheduler's.
      const b = makeOpt();
      const sb = makeSched(b.opt);
      b.opt.loadStateDict(optSd);
      sb.loadStateDict(sd);
      follow(`${name} (resumed)`, b.opt, sb, MID, STEPS, py, metrics);
      // The scheduler's state alone restores the lrs it set.
      const c = makeOpt();
      const sc = makeSched(c.opt);
      sc.loadStateDict(sd);
      follow(`${name} (resumed, scheduler only)`, c.opt, sc, MID, MID + 1, py, metrics);
      for (const x of [a, b, c]) torch.dispose(x.params);
    });
  }
});

describe('ReduceLROnPlateau, LambdaLR, MultiplicativeLR, CyclicLR: behaviour and errors', () => {
  tensorTest('ReduceLROnPlateau takes a one-element Tensor metric; best survives a plain JSON round trip before any step', () => {
    const { opt, params } = sgd();
    const s = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    assert.equal(s.best, Infinity);
    const plain = JSON.parse(JSON.stringify(s.stateDict())) as Record<string, unknown>;
    assert.equal(plain.best, null);
    const m = torch.tensor([2.0]);
    s.step(m);
    assert.equal(s.best, 2);
    s.step(3);
    close(opt.paramGroups[0]!.lr, 0.05, 'lr after a bad epoch with patience 0');
    s.loadStateDict(plain);
    assert.equal(s.best, Infinity);
    assert.equal(s.modeWorse, Infinity);
    close(opt.paramGroups[0]!.lr, 0.1, 'lr restored from _last_lr');
    const two = torch.tensor([1, 2]);
    assertThrows(
      () => s.step(two),
      RangeError,
      /ReduceLROnPlateau\.step: metric must be a number or a one-element Tensor, got a Tensor of 2 elements/,
    );
    assertThrows(
      () => s.step('x' as never),
      TypeError,
      /ReduceLROnPlateau\.step: metric must be a number or a one-element Tensor, got 'x'/,
    );
    torch.dispose([params, m, two]);
  });

  tensorTest('LambdaLR and MultiplicativeLR state dicts hold null for each function; objects in lr_lambdas are assigned onto them', () => {
    const { opt, params } = sgd2();
    const f = Object.assign((e: number) => (f as unknown as { k: number }).k ** e, { k: 0.5 });
    const s = new LambdaLR(opt, { lrLambda: [f, () => 1] });
    s.step();
    close(opt.paramGroups[0]!.lr, 0.05, 'lambda lr at epoch 1');
    const sd = s.stateDict();
    assert.deepEqual(sd.lr_lambdas, [null, null]);
    s.loadStateDict({ ...sd, lr_lambdas: [{ k: 0.25 }, null] });
    s.step();
    close(opt.paramGroups[0]!.lr, 0.1 * 0.25 ** 2, "lambda lr after updating the function's state");
    torch.dispose(params);
  });

  tensorTest('CyclicLR cycles beta1 for Adam as it cycles momentum for SGD (PyTorch >= 2.0; 1.13 refuses Adam)', () => {
    const a = sgd();
    const b = adam();
    const sa = new CyclicLR(a.opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 5 });
    const sb = new CyclicLR(b.opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 5 });
    for (let i = 0; i < 23; i++) {
      assert.equal(momentumOf(b.opt), momentumOf(a.opt), `beta1 vs momentum at ${i}`);
      assert.equal((b.opt.paramGroups[0]!.betas as number[])[1], 0.999);
      assert.deepEqual(sb.getLastLr(), sa.getLastLr());
      sa.step();
      sb.step();
    }
    const sd = sb.stateDict();
    assert.ok(!('use_beta1' in sd));
    torch.dispose([a.params, b.params]);
  });

  tensorTest('bad options name the scheduler, the option, what was expected and what came', () => {
    const { opt, params } = sgd();
    const R = ReduceLROnPlateau;
    assertThrows(() => new R(opt, { factor: 1 }), RangeError, /^ReduceLROnPlateau: factor must be a number < 1, got 1$/);
    assertThrows(() => new R(opt, { patience: -1 }), RangeError, /^ReduceLROnPlateau: patience must be a non-negative integer, got -1$/);
    assertThrows(() => new R(opt, { cooldown: 1.5 }), RangeError, /^ReduceLROnPlateau: cooldown must be a non-negative integer, got 1\.5$/);
    assertThrows(() => new R(opt, { mode: 'mean' as never }), TypeError, /^ReduceLROnPlateau: mode must be 'min' or 'max', got 'mean'$/);
    assertThrows(
      () => new R(opt, { thresholdMode: 'relative' as never }),
      TypeError,
      /^ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got 'relative'$/,
    );
    assertThrows(
      () => new R(opt, { minLr: [0, 0] }),
      RangeError,
      /^ReduceLROnPlateau: minLr must be a number or an array of 1 numbers \(one per param group\), got \[0, 0\]$/,
    );
    assertThrows(
      () => new R(opt, { min_lr: 0 } as never),
      TypeError,
      /ReduceLROnPlateau: unknown option 'min_lr' \(known: mode, factor, patience/,
    );
    assertThrows(() => new R({} as never), TypeError, /^ReduceLROnPlateau: optimizer must be an Optimizer, got an object$/);
    const r = new R(opt);
    assertThrows(
      () => r.loadStateDict({ min_lrs: [0, 1] }),
      RangeError,
      /ReduceLROnPlateau\.loadStateDict: min_lrs must be an array of 1 numbers/,
    );
    assertThrows(
      () => r.loadStateDict({ mode: 'up' }),
      TypeError,
      /ReduceLROnPlateau\.loadStateDict: mode must be 'min' or 'max', got 'up'/,
    );
    assertThrows(
      () => new SequentialLR(opt, [new StepLR(opt, { stepSize: 2 }), r as never], [3]),
      TypeError,
      /SequentialLR: schedulers must be a non-empty array of schedulers/,
    );

    assertThrows(
      () => new LambdaLR(opt, { lrLambda: 0.9 as never }),
      TypeError,
      /^LambdaLR: lrLambda must be a function of the epoch or an array of 1 of them \(one per param group\), got 0\.9$/,
    );
    assertThrows(
      () => new LambdaLR(opt, { lrLambda: [() => 1, () => 1] }),
      RangeError,
      /^LambdaLR: lrLambda must be a function of the epoch or an array of 1 of them \(one per param group\), got \[a function, a function\]$/,
    );
    assertThrows(
      () => new MultiplicativeLR(opt, { lrLambda: ['x' as never] }),
      TypeError,
      /^MultiplicativeLR: lrLambda\[0\] must be a function of the epoch, got 'x'$/,
    );
    assertThrows(
      () => new MultiplicativeLR(opt, undefined as never),
      TypeError,
      /^MultiplicativeLR: options must be an object with lrLambda, lastEpoch, got undefined$/,
    );
    const bad = new MultiplicativeLR(opt, { lrLambda: () => 'a' as never });
    assertThrows(() => bad.step(), TypeError, /^MultiplicativeLR: lrLambda of param group 0 must return a number, got 'a' at epoch 1$/);

    assertThrows(
      () => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, mode: 'sine' as never }),
      TypeError,
      /^CyclicLR: mode must be one of 'triangular', 'triangular2', 'exp_range' \(or give scaleFn\), got 'sine'$/,
    );
    assertThrows(
      () => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 0 }),
      RangeError,
      /^CyclicLR: stepSizeUp must be a positive number, got 0$/,
    );
    assertThrows(
      () => new CyclicLR(opt, { baseLr: 0.01, maxLr: [0.1, 0.2] }),
      RangeError,
      /^CyclicLR: maxLr must be a number or an array of 1 numbers \(one per param group\), got \[0\.1, 0\.2\]$/,
    );
    assertThrows(
      () => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, scaleFn: (x) => x, scaleMode: 'epoch' as never }),
      TypeError,
      /^CyclicLR: scaleMode must be 'cycle' or 'iterations', got 'epoch'$/,
    );
    assertThrows(
      () => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, scaleFn: 2 as never }),
      TypeError,
      /^CyclicLR: scaleFn must be a function, got 2$/,
    );
    assertThrows(() => new CyclicLR(opt, { baseLr: 'a' as never, maxLr: 0.1 }), TypeError, /^CyclicLR: baseLr must be a number, got 'a'$/);
    assertThrows(() => new CyclicLR(opt, { base_lr: 0.01 } as never), TypeError, /CyclicLR: unknown option 'base_lr'/);
    torch.dispose(params);
  });
});
