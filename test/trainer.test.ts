// The Trainer on real tiles with a small U-Net: events in order, the run folder, bit-exact
// resume after an interruption mid-epoch, a non-finite loss, early stopping, EMA and SWA,
// accumulation, and no tensor left alive.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { torch, createModel, data, losses, optim, type Tensor } from '../src/index.js';
import {
  Trainer,
  NonFiniteLossError,
  evaluate,
  loadTrained,
  readEvents,
  type TrainerOptions,
  type TrainEvent,
} from '../src/train/index.js';
import { loadSafetensors } from '../src/torch/serialization/index.js';
import { tensorTest } from './helpers.js';

const KAVRE = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'demo', 'regions', 'kavre');
const MODEL = { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [16, 8, 8], classes: 1 } as const;
const tmp = () => mkdtempSync(join(tmpdir(), 'segkit-trainer-'));

/** 12 training and 4 validation tiles of Kavre, 64 px crops, a 3-level U-Net: a few seconds per epoch. */
async function setup(overrides: Partial<TrainerOptions> & { seed?: number; lr?: number } = {}) {
  const ds = await data.open(KAVRE);
  const names = Array.from({ length: ds.length }, (_, i) => ds.metaAt!(i).name);
  const split: data.Split = { method: 'fixed', seed: 0, sides: { train: names.slice(0, 12), val: names.slice(12, 16) } } as data.Split;
  const { train, val } = data.applySplit(ds, split);
  const norm = new data.Normalize();
  const trainLoader = new data.DataLoader(train, {
    batchSize: 4,
    shuffle: true,
    seed: 3,
    transform: new data.Compose([new data.RandomCrop({ height: 64, width: 64 }), new data.HorizontalFlip(), norm]),
  });
  const valLoader = new data.DataLoader(val, {
    batchSize: 4,
    transform: new data.Compose([new data.CenterCrop({ height: 128, width: 128 }), norm]),
  });
  torch.manualSeed(overrides.seed ?? 0);
  const model = createModel('unet', { ...MODEL });
  const optimizer = new optim.AdamW(model.parameters(), { lr: overrides.lr ?? 3e-3 });
  const scheduler = new optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax: 3 });
  const options: TrainerOptions = {
    model,
    train: trainLoader,
    val: valLoader,
    loss: new losses.DiceLoss('binary'),
    optimizer,
    scheduler,
    epochs: 3,
    split,
    predict: { architecture: 'unet', modelOptions: { ...MODEL }, classes: ['background', 'building'], threshold: 0.5 },
    samples: 0,
    report: false,
    ...overrides,
  };
  const dispose = () => {
    optimizer.dispose();
    model.dispose();
  };
  return { options, model, optimizer, dispose };
}

function weights(model: { stateDict(): Record<string, Tensor> }): Record<string, Float64Array> {
  return Object.fromEntries(
    Object.entries(model.stateDict()).map(([k, v]) => [k, torch.tidy(() => v.double().contiguous().toArray() as Float64Array)]),
  );
}

tensorTest('a run writes its folder and its events come in order', async () => {
  const dir = tmp();
  const s = await setup({ runDir: dir, config: { note: 'test' }, logEvery: 1 });
  const seen: TrainEvent[] = [];
  const hooks: string[] = [];
  try {
    const result = await new Trainer({
      ...s.options,
      onEvent: (e) => seen.push(e),
      callbacks: [
        {
          onStart: () => void hooks.push('start'),
          onEpochEnd: (e) => void hooks.push(`epoch${e.epoch}`),
          onEnd: () => void hooks.push('end'),
        },
      ],
    }).fit();
    assert.equal(result.reason, 'completed');
    assert.equal(result.epoch, 3);
    assert.equal(result.step, 9);
    assert.deepEqual(hooks, ['start', 'epoch1', 'epoch2', 'epoch3', 'end']);
    const types = seen.map((e) => e.type);
    assert.equal(types[0], 'start');
    assert.equal(types.at(-1), 'end');
    assert.equal(types.filter((t) => t === 'step').length, 9);
    assert.equal(types.filter((t) => t === 'validation').length, 3);
    for (const e of seen)
      if (e.type === 'step') assert.ok(Number.isFinite(e.loss) && e.loss > 0 && e.loss <= 1, `Dice loss in (0, 1], got ${e.loss}`);
    const epochs = seen.filter((e) => e.type === 'epoch');
    assert.deepEqual(
      epochs.map((e) => e.lr.toFixed(6)),
      [3e-3 * 0.75, 3e-3 * 0.25, 0].map((v) => v.toFixed(6)),
      'cosine over 3 epochs, stepped per epoch',
    );
    for (const e of epochs) {
      assert.ok(e.dataWaitFraction >= 0 && e.dataWaitFraction < 1);
      assert.ok(e.imagesPerSecond > 0);
      assert.equal(e.images, 12);
    }
    for (const f of ['config.json', 'split.json', 'log.jsonl', 'last.safetensors', 'best.safetensors'])
      assert.ok(existsSync(join(dir, f)), f);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), { note: 'test' });
    assert.deepEqual(await data.loadSplit(join(dir, 'split.json')), s.options.split, 'split.json is a split file loadSplit reads');
    assert.deepEqual(
      readEvents(join(dir, 'log.jsonl')).map((e) => e.type),
      types,
    );
    // The best checkpoint predicts with the metrics it was chosen for.
    const { model } = loadTrained(join(dir, 'best.safetensors'));
    try {
      const again = await evaluate(model, s.options.val!);
      assert.equal(again.dice, result.best!.metrics!.dice);
      assert.equal(again.iou, result.best!.metrics!.iou);
    } finally {
      model.dispose();
    }
  } finally {
    s.dispose();
  }
});

tensorTest('an interrupted run resumes mid-epoch to the same weights as an uninterrupted one', async () => {
  const whole = await setup({ runDir: tmp() });
  let expected: Record<string, Float64Array>;
  try {
    await new Trainer(whole.options).fit();
    expected = weights(whole.model);
  } finally {
    whole.dispose();
  }
  const dir = tmp();
  const first = await setup({ runDir: dir });
  const controller = new AbortController();
  try {
    const r = await new Trainer({
      ...first.options,
      signal: controller.signal,
      callbacks: [{ onStepEnd: (e) => void (e.epoch === 2 && e.batch === 1 && controller.abort()) }],
    }).fit();
    assert.equal(r.reason, 'interrupted');
    assert.equal(r.step, 4);
    assert.match(r.message, /epoch 2, batch 1 of 3/);
  } finally {
    first.dispose();
  }
  // A fresh process would build everything anew: other initial weights, then the checkpoint.
  const second = await setup({ runDir: dir, seed: 123 });
  try {
    const r = await new Trainer({ ...second.options, resume: join(dir, 'last.safetensors') }).fit();
    assert.equal(r.reason, 'completed');
    assert.equal(r.step, 9);
    const got = weights(second.model);
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(got[k], v, `${k} differs after resuming`);
  } finally {
    second.dispose();
  }
});

tensorTest('a non-finite loss stops the run naming the step and keeps the last good checkpoint', async () => {
  const dir = tmp();
  let calls = 0;
  const dice = new losses.DiceLoss('binary');
  const s = await setup({
    runDir: dir,
    // Validation calls the loss too (without grad): count the training calls only.
    loss: (p: Tensor, t: Tensor) =>
      p.requiresGrad && ++calls === 5 ? torch.tidy(() => dice.forward(p, t).mul(Number.NaN)) : dice.forward(p, t),
  });
  try {
    await assert.rejects(new Trainer(s.options).fit(), (e: Error) => {
      assert.ok(e instanceof NonFiniteLossError);
      assert.match(e.message, /the loss became NaN at epoch 2, batch 2 of 3 \(step 5\)/);
      assert.match(e.message, /last\.safetensors/);
      return true;
    });
    const events = readEvents(join(dir, 'log.jsonl'));
    assert.equal(events.at(-1)!.type, 'end');
    assert.equal((events.at(-1) as { reason: string }).reason, 'non-finite-loss');
    // The checkpoint is epoch 1's, whole and loadable.
    const { info, model } = loadTrained(join(dir, 'last.safetensors'));
    model.dispose();
    assert.equal(info.epoch, 1);
    assert.equal(info.step, 3);
  } finally {
    s.dispose();
  }
});

tensorTest('early stopping, validateEvery, accumulation and a callback that stops the run', async () => {
  // monitor 'loss' with an impossible minDelta: never better after the first validation.
  const s = await setup({ epochs: 6, monitor: 'loss', earlyStopping: { patience: 2, minDelta: 10 }, accumulate: 3 });
  try {
    let optimizerSteps = 0;
    const step = s.optimizer.step.bind(s.optimizer);
    s.optimizer.step = (<T>(closure?: () => T) => {
      optimizerSteps += 1;
      return step(closure);
    }) as typeof s.optimizer.step;
    const r = await new Trainer(s.options).fit();
    assert.equal(r.reason, 'early-stopping');
    assert.equal(r.epoch, 3);
    assert.equal(r.best!.epoch, 1);
    assert.equal(optimizerSteps, 3, 'one optimizer step per 3 batches');
    assert.match(r.message, /no better loss for 2 validations/);
  } finally {
    s.dispose();
  }
  const t = await setup({ epochs: 4, validateEvery: 2 });
  try {
    const seen: number[] = [];
    const trainer: Trainer = new Trainer({
      ...t.options,
      onEvent: (e) => {
        if (e.type === 'validation') seen.push(e.epoch);
        if (e.type === 'epoch' && e.epoch === 2) trainer.stop();
      },
    });
    const r = await trainer.fit();
    assert.deepEqual(seen, [2]);
    assert.equal(r.reason, 'stopped');
    assert.equal(r.epoch, 2);
  } finally {
    t.dispose();
  }
});

tensorTest('EMA weights are validated and saved as best; SWA averages the last epochs', async () => {
  const dir = tmp();
  const s = await setup({ runDir: dir, ema: { decay: 0.5 }, epochs: 2 });
  try {
    const r = await new Trainer(s.options).fit();
    const { model, predict } = loadTrained(join(dir, 'last.safetensors'));
    try {
      assert.equal(predict.weights, 'ema');
      const m = await evaluate(model, s.options.val!);
      // The last epoch's validation ran on the EMA weights, which loadTrained restores from last.
      const lastVal = r.history.at(-1)!.validation!;
      assert.equal(m.dice, lastVal.dice);
    } finally {
      model.dispose();
    }
  } finally {
    s.dispose();
  }
  const dir2 = tmp();
  const w = await setup({ runDir: dir2, swa: { start: 2, lr: 1e-3 }, epochs: 3 });
  try {
    const seen: TrainEvent[] = [];
    await new Trainer({ ...w.options, onEvent: (e) => seen.push(e) }).fit();
    assert.ok(existsSync(join(dir2, 'swa.safetensors')));
    assert.equal(seen.filter((e) => e.type === 'validation').length, 4, 'three epochs and the SWA model');
    const lrs = seen.filter((e) => e.type === 'epoch').map((e) => (e as { lr: number }).lr);
    assert.ok(Math.abs(lrs[2]! - 1e-3) < 1e-12, `SWA rate held at the end, got ${lrs}`);
    const sd = loadSafetensors(join(dir2, 'swa.safetensors'));
    torch.dispose(Object.values(sd));
  } finally {
    w.dispose();
  }
});

test('bad options name the option and what came', async () => {
  const s = await setup();
  try {
    assert.throws(() => new Trainer({ ...s.options, epochs: 0 }), /Trainer: epochs must be a positive integer, got 0/);
    assert.throws(
      () => new Trainer({ ...s.options, monitor: 'f1' as never }),
      /Trainer: monitor must be one of 'dice', 'iou', 'loss'.*got 'f1'/,
    );
    assert.throws(() => new Trainer({ ...s.options, loss: 3 as never }), /Trainer: loss must be a Loss/);
    assert.throws(() => new Trainer({ ...s.options, lr: 1 } as never), /Trainer: .*lr/);
    assert.throws(() => new Trainer({ ...s.options, swa: { start: 9, lr: 1 } }), /Trainer\.swa: start must be .*3/);
  } finally {
    s.dispose();
  }
});

tensorTest('a checkpoint that cannot be written ends the run with an error and the previous one stays intact', async () => {
  const dir = tmp();
  const s = await setup({ runDir: dir });
  // A disk that fills up after epoch 1: a checkpoint's temporary file gets half its bytes, then ENOSPC.
  const require = createRequire(import.meta.url);
  const fs = require('node:fs') as typeof import('node:fs');
  const { openSync, writeSync } = fs;
  const failing = new Set<number>();
  let full = false;
  let before: Buffer | undefined;
  fs.openSync = ((path: string, ...rest: unknown[]) => {
    const fd = (openSync as (...a: unknown[]) => number)(path, ...rest);
    if (full && String(path).includes('.safetensors.tmp-')) failing.add(fd);
    return fd;
  }) as typeof fs.openSync;
  fs.writeSync = ((fd: number, buffer: Uint8Array, ...rest: unknown[]) => {
    if (!failing.has(fd)) return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    failing.delete(fd);
    writeSync(fd, buffer.subarray(0, buffer.byteLength >> 1));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }) as typeof fs.writeSync;
  syncBuiltinESMExports();
  try {
    const trainer = new Trainer({
      ...s.options,
      callbacks: [
        {
          onEpochEnd: () => {
            if (full) return;
            full = true;
            before = readFileSync(join(dir, 'last.safetensors'));
          },
        },
      ],
    });
    await assert.rejects(trainer.fit(), (e: Error) => {
      assert.match(
        e.message,
        /Trainer: the (best|last) checkpoint could not be saved at epoch 2, step 6 \(.*ENOSPC.*\); the previous (best|last)\.safetensors is unchanged/,
      );
      return true;
    });
  } finally {
    fs.openSync = openSync;
    fs.writeSync = writeSync;
    syncBuiltinESMExports();
    s.dispose();
  }
  assert.deepEqual(readFileSync(join(dir, 'last.safetensors')), before, "epoch 1's last.safetensors, byte for byte");
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary file is left behind',
  );
  const { info, model } = loadTrained(join(dir, 'last.safetensors'));
  model.dispose();
  assert.equal(info.epoch, 1);
  const end = readEvents(join(dir, 'log.jsonl')).at(-1) as { type: string; reason: string; message: string };
  assert.equal(end.type, 'end');
  assert.equal(end.reason, 'error');
  assert.match(end.message, /ENOSPC/);
});
