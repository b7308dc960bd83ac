// Run configs: defaults, every kind of error naming its field, YAML syntax errors by line,
// overrides, the JSON Schema, and a tiny run built from a config on the demo regions (a few
// tiles picked by a split file) checked object by object: loaders, normalization, the lr
// sequence with warm-up, snapshot epochs, splits, parameter groups and the loss.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torch, losses } from '../src/index.js';
import { encoderNormalization } from '../src/data/normalize.js';
import type { Batch } from '../src/data/dataset.js';
import {
  applyOverrides,
  ConfigError,
  loadRunConfig,
  parseRunConfig,
  readConfigFile,
  runConfigJsonSchema,
  type RunConfigInput,
} from '../src/train/config.js';
import { buildRun } from '../src/train/build.js';
import { buildScheduler, snapshotEpochs, stepsPerEpoch } from '../src/train/schedule.js';
import { trainFolds } from '../src/train/run.js';
import { SGD } from '../src/torch/optim/sgd.js';
import { assertClose, maxAbsDiff, tensorTest, REGIONS, TINY_TRAIN as TRAIN, TINY_VAL as VAL } from './helpers.js';
import { createEncoder } from '../src/models/encoders/registry.js';
import { loadSafetensors, saveSafetensors } from '../src/torch/serialization/index.js';
import { loadTrained } from '../src/train/load.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');

const tmp = () => mkdtempSync(join(tmpdir(), 'segkit-config-'));

/** A split file naming 4 training and 2 validation tiles of the demo regions. */
function splitFile(): string {
  const path = join(tmp(), 'split.json');
  writeFileSync(path, JSON.stringify({ version: 1, method: 'fixed', seed: 0, train: TRAIN, val: VAL }));
  return path;
}

/** A 3-level U-Net on 64 px crops of the split's tiles. */
const tiny = (split: string, extra: Partial<Record<keyof RunConfigInput, unknown>> = {}) => ({
  model: { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16, 8] },
  data: { train: REGIONS, split: { file: split }, batchSize: 2 },
  augment: [{ name: 'RandomCrop', height: 64, width: 64 }, { name: 'HorizontalFlip' }],
  epochs: 2,
  ...extra,
});

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${(e as Error).message}`);
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

async function asyncIssues(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${(e as Error).stack}`);
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

test('a config of data.train alone resolves to every default', () => {
  assert.deepEqual(parseRunConfig({ data: { train: 'tiles' } }), {
    name: 'run',
    seed: 0,
    device: 'auto',
    model: { architecture: 'unet', encoderName: 'resnet34', encoderWeights: null, inChannels: 3, classes: 1 },
    data: { train: [{ path: 'tiles', format: 'auto' }], batchSize: 8, normalization: 'imagenet' },
    augment: [],
    loss: { name: 'dice' },
    optimizer: { name: 'adamw', lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false, fused: false },
    scheduler: { name: 'none', warmupEpochs: 0, warmupStartFactor: 0.1, interval: 'epoch' },
    epochs: 30,
    accumulate: 1,
    clipGradNorm: null,
    autocast: false,
    channelsLast: false,
    ema: false,
    swa: false,
    validateEvery: 1,
    monitor: 'dice',
    earlyStopping: null,
    threshold: 0.5,
    snapshots: false,
    output: 'runs',
    logEvery: 10,
    adversarial: null,
  });
  // Per-choice defaults: SGD's own, the schedule's own, an architecture's own encoder.
  const c = parseRunConfig({
    data: { train: 'x' },
    optimizer: { name: 'sgd' },
    scheduler: { name: 'poly' },
    model: { architecture: 'deeplabv2' },
    ema: {},
  });
  assert.deepEqual(c.optimizer, { name: 'sgd', lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: false });
  assert.deepEqual(c.scheduler, { name: 'poly', warmupEpochs: 0, warmupStartFactor: 0.1, interval: 'epoch', totalIters: null, power: 0.9 });
  assert.equal(c.model.encoderName, 'resnet101');
  assert.deepEqual(c.ema, { decay: 0.999, warmup: true });
  assert.equal('encoderName' in parseRunConfig({ data: { train: 'x' }, model: { architecture: 'unet-original' } }).model, false);
  // A resolved config parses to itself (config.json read back by --resume).
  assert.deepEqual(parseRunConfig(JSON.parse(JSON.stringify(c))), c);
});

test('each kind of mistake names the field, what it allows and what came', () => {
  const cases: [unknown, string | RegExp][] = [
    [
      { data: { train: 'x' }, optimizer: { name: 'adamx' } },
      'run.yaml: optimizer.name: expected one of "adamw", "adam", "sgd", "rmsprop", got "adamx"',
    ],
    [{ data: { train: 'x' }, optimizer: { lr: -1 } }, 'run.yaml: optimizer.lr: expected a number > 0, got -1'],
    [{ data: { train: 'x' }, epochs: 1.5 }, 'run.yaml: epochs: expected an integer, got 1.5'],
    [{ data: { train: 'x' }, threshold: 1.5 }, 'run.yaml: threshold: expected a number <= 1, got 1.5'],
    [{ data: { train: 'x' }, seed: 'one' }, 'run.yaml: seed: expected a number, got "one"'],
    [
      { data: { train: 'x' }, optimizer: { name: 'sgd', momentun: 0.9 } },
      'run.yaml: optimizer.momentun: unknown field; did you mean "momentum"? (allowed here: name, lr, momentum, dampening, weightDecay, nesterov, paramGroups)',
    ],
    [{}, 'run.yaml: data: expected a mapping (key: value), got nothing (the field is required)'],
    [{ data: { train: [{ paht: 'x' }] } }, 'run.yaml: data.train[0].path: expected a string, got nothing (the field is required)'],
    [{ data: { train: 'x', split: { file: 3 } } }, 'run.yaml: data.split.file: expected a string, got 3'],
    [{ data: { train: 'x', split: { folds: 3, fold: 3 } } }, 'run.yaml: data.split.fold: expected an integer below folds (3), got 3'],
    [
      { data: { train: 'x', normalization: 'imagenett' } },
      'run.yaml: data.normalization: expected one of "imagenet", "none", got "imagenett"',
    ],
    [{ data: { train: 'x' }, ema: 'yes' }, 'run.yaml: ema: expected true or false or a mapping (key: value), got "yes"'],
    [
      { data: { train: 'x' }, loss: { terms: [{ name: 'dice' }] } },
      'run.yaml: loss.terms[0].weight: expected a number, got nothing (the field is required)',
    ],
    [
      { data: { train: 'x' }, scheduler: { name: 'cosine-restarts' } },
      'run.yaml: scheduler.t0: expected a number, got nothing (the field is required)',
    ],
    [
      { data: { train: 'x' }, scheduler: { name: 'onecycle', warmupEpochs: 2 } },
      'run.yaml: scheduler.warmupEpochs: expected 0 with "onecycle" (it warms up itself, see pctStart), got 2',
    ],
    [{ data: { train: 'x' }, snapshots: true }, /^run\.yaml: snapshots: expected false unless scheduler\.name is "cosine-restarts"/],
    [
      { data: { train: 'x' }, augment: [{ name: 'Flip' }] },
      /^run\.yaml: augment\[0\]\.name: expected one of "HorizontalFlip", .*"Compose", got "Flip"$/,
    ],
    [
      { data: { train: 'x' }, model: { architecture: 'unet3' } },
      /^run\.yaml: model\.architecture: expected one of .*"unet".*, got "unet3"$/,
    ],
  ];
  for (const [config, expected] of cases) {
    const issues = issuesOf(() => parseRunConfig(config, 'run.yaml'));
    assert.equal(issues.length, 1, `${JSON.stringify(config)}: ${issues.join(' | ')}`);
    if (typeof expected === 'string') assert.equal(issues[0], expected);
    else assert.match(issues[0]!, expected);
  }
});

test('every problem of a config is reported at once, one line each', () => {
  const issues = issuesOf(() =>
    parseRunConfig(
      { data: { train: 'x', split: { folds: 3, fold: 5 } }, epochs: 0, optimizer: { lr: 'fast' }, monitr: 'iou', threshold: -1 },
      'a.yaml',
    ),
  );
  assert.deepEqual(issues.sort(), [
    'a.yaml: data.split.fold: expected an integer below folds (3), got 5',
    'a.yaml: epochs: expected an integer >= 1, got 0',
    'a.yaml: monitr: unknown field; did you mean "monitor"? (allowed here: name, seed, threads, device, model, data, augment, loss, optimizer, scheduler, epochs, accumulate, clipGradNorm, autocast, channelsLast, ema, swa, validateEvery, monitor, earlyStopping, threshold, snapshots, output, logEvery, adversarial)',
    'a.yaml: optimizer.lr: expected a number, got "fast"',
    'a.yaml: threshold: expected a number >= 0, got -1',
  ]);
});

test('a YAML syntax error names the file, line and column; JSON files read too', async () => {
  const dir = tmp();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'data:\n  train: tiles\noptimizer:\n  lr: 0.1\n   name: sgd\n');
  const issues = await asyncIssues(() => readConfigFile(bad));
  assert.match(issues[0]!, new RegExp(`^${bad.replace(/[.\\/]/g, '\\$&')}:4:7: syntax error: `));
  writeFileSync(join(dir, 'dup.yaml'), 'data:\n  train: a\nepochs: 2\nepochs: 3\n');
  assert.match(
    (await asyncIssues(() => readConfigFile(join(dir, 'dup.yaml'))))[0]!,
    /dup\.yaml:4:1: syntax error: Map keys must be unique/,
  );
  const yaml = join(dir, 'run.yaml');
  const json = join(dir, 'run.json');
  writeFileSync(yaml, 'data:\n  train: tiles\n  batchSize: 4\noptimizer: { name: sgd, lr: 0.05 }\n');
  writeFileSync(json, JSON.stringify({ data: { train: 'tiles', batchSize: 4 }, optimizer: { name: 'sgd', lr: 0.05 } }, null, 2));
  assert.deepEqual(await loadRunConfig(yaml), await loadRunConfig(json));
  const withFlags = await loadRunConfig(yaml, ['optimizer.lr=0.2', 'epochs=3']);
  assert.equal(withFlags.optimizer.lr, 0.2);
  assert.equal(withFlags.epochs, 3);
  assert.equal(withFlags.data.batchSize, 4);
});

test('overrides set dotted paths with YAML values and validate the result again', () => {
  const raw = { data: { train: 'tiles' }, augment: [{ name: 'HorizontalFlip' }] };
  const c = applyOverrides(raw, [
    'optimizer.lr=0.05',
    'augment[0].p=0.25',
    'augment.1.name=VerticalFlip',
    'model.decoderChannels=[32, 16, 8]',
    'earlyStopping.patience=3',
    'name=exp 1',
  ]);
  assert.equal(c.optimizer.lr, 0.05);
  assert.deepEqual(c.augment, [{ name: 'HorizontalFlip', p: 0.25 }, { name: 'VerticalFlip' }]);
  assert.deepEqual((c.model as Record<string, unknown>).decoderChannels, [32, 16, 8]);
  assert.deepEqual(c.earlyStopping, { patience: 3, minDelta: 0 });
  assert.equal(c.name, 'exp 1');
  assert.deepEqual(raw, { data: { train: 'tiles' }, augment: [{ name: 'HorizontalFlip' }] }, 'the input is left as it was');
  assert.equal(applyOverrides(raw, { 'data.batchSize': 2 }).data.batchSize, 2);
  assert.deepEqual(
    issuesOf(() => applyOverrides(raw, ['optimizer.lr=fast'], 'run.yaml')),
    ['run.yaml: optimizer.lr: expected a number, got "fast"'],
  );
  assert.deepEqual(
    issuesOf(() => applyOverrides(raw, ['optimizer.lr'])),
    ['--set: expected path=value (optimizer.lr=0.01), got "optimizer.lr"'],
  );
  assert.match(
    issuesOf(() => applyOverrides(raw, ['data.train.path=x']))[0]!,
    /^--set data\.train\.path=?: data\.train is "tiles", not a mapping or list/,
  );
});

test('the JSON Schema describes every field, with types, defaults and strict objects', () => {
  const schema = runConfigJsonSchema() as {
    properties: Record<string, any>;
    required: string[];
    additionalProperties: boolean;
    title: string;
  };
  assert.equal(schema.title, 'segkit run configuration');
  assert.deepEqual(schema.required, ['data']);
  assert.equal(schema.additionalProperties, false);
  for (const key of [
    'name',
    'seed',
    'model',
    'data',
    'augment',
    'loss',
    'optimizer',
    'scheduler',
    'epochs',
    'ema',
    'swa',
    'monitor',
    'earlyStopping',
    'snapshots',
    'output',
  ])
    assert.ok(key in schema.properties, key);
  assert.equal(schema.properties.epochs.type, 'integer');
  assert.equal(schema.properties.epochs.default, 30);
  assert.deepEqual(schema.properties.monitor.enum, ['dice', 'iou', 'loss', 'tianchi', 'objectF1', 'precision', 'recall']);
  assert.deepEqual(schema.properties.data.required, ['train']);
  const optimizers = schema.properties.optimizer.oneOf.map((o: any) => o.properties.name.const);
  assert.deepEqual(optimizers, ['adamw', 'adam', 'sgd', 'rmsprop']);
  assert.equal(schema.properties.model.additionalProperties !== false, true, 'model options pass through to createModel');
  JSON.parse(JSON.stringify(schema));
});

tensorTest("options passed through are checked by their constructors, addressed to the config's field, all at once", async () => {
  const issues = await asyncIssues(() =>
    buildRun(
      {
        model: { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16] },
        data: { train: { path: REGIONS, zooms: 'all' } },
        augment: [
          { name: 'RandomCrop', height: 64, width: 64 },
          { name: 'HorizontalFlip', p: 2 },
          { name: 'OneOf', transforms: [{ name: 'Blur' }] },
        ],
        loss: { name: 'dice', smoth: 1 },
      },
      { source: 'run.yaml' },
    ),
  );
  assert.equal(issues.length, 5, issues.join('\n'));
  assert.match(issues[0]!, /^run\.yaml: model\.decoderChannels: must be an array of 3 .*\(Unet\)$/);
  assert.match(issues[1]!, /^run\.yaml: augment\[1\]\.p: must be .*got 2 \(HorizontalFlip\)$/);
  assert.match(issues[2]!, /^run\.yaml: augment\[2\]\.transforms\[0\]\.name: expected one of "HorizontalFlip", .*got "Blur"$/);
  assert.match(issues[3]!, /^run\.yaml: loss: DiceLoss: unknown option 'smoth' .*did you mean 'smooth'\?$/);
  assert.match(issues[4]!, /^run\.yaml: data\.train\[0\]\.zooms: must be .*got 'all' \(data\.tiles\)$/);
});

tensorTest('a tiny run built from a config: datasets, loaders, normalization, loss, predict info', async () => {
  const split = splitFile();
  const run = await buildRun(tiny(split));
  try {
    assert.deepEqual(run.split?.sides, { train: TRAIN, val: VAL });
    assert.equal(run.trainSet.length, 4);
    assert.equal(run.valSet?.length, 2);
    assert.equal(run.trainLoader.length, 2);
    const norm = encoderNormalization('resnet18');
    assert.deepEqual(run.normalization, norm);
    for await (const b of run.trainLoader) {
      assert.deepEqual([b.image.shape, b.image.dtype, b.mask.shape, b.mask.dtype], [[2, 3, 64, 64], 'float32', [2, 64, 64], 'int64']);
      torch.dispose([b.image, b.mask]);
    }
    // The validation batch is the tile as decoded, normalized with the encoder's mean and std.
    const raw = await run.valSet!.get(0);
    const it = run.valLoader![Symbol.asyncIterator]();
    const first = (await it.next()).value as Batch;
    await it.return?.();
    torch.tidy(() => {
      const mean = torch.tensor(norm.mean, { shape: [3, 1, 1] });
      const std = torch.tensor(norm.std, { shape: [3, 1, 1] });
      assertClose(first.image.select(0, 0), raw.image.sub(mean).div(std), 1e-5, 1e-5, 'normalized image');
    });
    assert.deepEqual(
      first.meta.map((m) => m.name),
      VAL,
    );
    torch.dispose([raw.image, raw.mask, first.image, first.mask]);
    assert.ok(run.loss instanceof losses.DiceLoss);
    assert.equal((run.loss as losses.DiceLoss).ignoreIndex, 255, "the dataset's ignore value reaches the loss");
    assert.equal(run.optimizer.constructor.name, 'AdamW');
    assert.deepEqual(run.predict, {
      architecture: 'unet',
      modelOptions: { encoderName: 'resnet18', inChannels: 3, classes: 1, encoderDepth: 3, decoderChannels: [32, 16, 8] },
      scaling: { kind: 'divide', by: 255 },
      normalization: norm,
      classes: ['background', 'building'],
      threshold: 0.5,
    });
    const t = run.trainerOptions;
    assert.equal(t.model, run.model);
    // device 'auto': the GPU where libtorch has one, else the CPU.
    assert.equal(run.model.parameters()[0]!.device, torch.cuda.isAvailable() ? 'cuda:0' : 'cpu');
    assert.equal(t.config, run.config);
    assert.deepEqual(
      [t.epochs, t.schedulerInterval, t.monitor, t.seed, t.ignoreIndex, t.scheduler],
      [2, 'epoch', 'dice', 0, 255, undefined],
    );
  } finally {
    run.dispose();
  }
});

tensorTest('device: a GPU that is not there is a config error naming the field', async () => {
  const gpus = torch.cuda.isAvailable() ? torch.cuda.deviceCount() : 0;
  await assert.rejects(buildRun({ ...tiny(splitFile()), device: `cuda:${gpus}` }, { source: 'run.yaml' }), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    assert.match(
      e.message,
      gpus === 0
        ? /run\.yaml: device: expected "cpu" or "auto" \(this libtorch has no CUDA, or no GPU is present\), got "cuda:0"/
        : new RegExp(`run\\.yaml: device: expected a CUDA device below ${gpus}, got "cuda:${gpus}"`),
    );
    return true;
  });
  assert.throws(
    () => parseRunConfig({ data: { train: 'x' }, device: 'gpu' }),
    /device: expected "auto", "cpu", "cuda" or "cuda:<index>", got "gpu"/,
  );
});

tensorTest('encoderWeights from a local file are loaded into the encoder, and left out of the predict info', async () => {
  const file = join(tmp(), 'resnet18.safetensors');
  torch.manualSeed(7);
  const source = createEncoder('resnet18');
  saveSafetensors(file, source.stateDict());
  source.dispose();
  const run = await buildRun(
    tiny(splitFile(), { model: { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16, 8], encoderWeights: file } }),
  );
  const saved = loadSafetensors(file);
  try {
    const own = run.model.encoder.stateDict();
    assert.ok(Object.keys(own).length > 10);
    for (const [k, v] of Object.entries(own)) assert.equal(maxAbsDiff(v, saved[k]!), 0, k);
    assert.equal(run.config.model.encoderWeights, file);
    assert.equal('encoderWeights' in run.predict.modelOptions, false);
  } finally {
    torch.dispose(Object.values(saved));
    run.dispose();
  }
});

/** The lr of the first parameter group over `n` scheduler steps (the first value before any step). */
function lrs(run: { optimizer: { paramGroups: { lr: number }[] }; scheduler?: unknown }, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(run.optimizer.paramGroups[0]!.lr);
    (run.scheduler as { step(): void }).step();
  }
  return out;
}

const cosine = (base: number, t: number, tMax: number) => (base * (1 + Math.cos((Math.PI * t) / tMax))) / 2;

tensorTest('warm-up then cosine: the lr per epoch and per step equal the hand-computed ones', async () => {
  const split = splitFile();
  const run = await buildRun(
    tiny(split, { optimizer: { name: 'sgd', lr: 0.1 }, scheduler: { name: 'cosine', warmupEpochs: 2, warmupStartFactor: 0.1 }, epochs: 6 }),
  );
  try {
    // LinearLR from 0.1 x lr over 2 epochs, then cosine over the remaining 4.
    const expected = [0.01, 0.055, 0.1, cosine(0.1, 1, 4), cosine(0.1, 2, 4), cosine(0.1, 3, 4)];
    lrs(run, 6).forEach((lr, i) => assert.ok(Math.abs(lr - expected[i]!) < 1e-12, `epoch ${i}: ${lr} vs ${expected[i]}`));
  } finally {
    run.dispose();
  }
  // interval 'step': 2 batches of 2 tiles per epoch, so the warm-up lasts 2 steps and the cosine 2 x 2.
  const steps = await buildRun(
    tiny(split, { optimizer: { name: 'sgd', lr: 0.1 }, scheduler: { name: 'cosine', warmupEpochs: 1, interval: 'step' }, epochs: 3 }),
  );
  try {
    assert.equal(steps.trainerOptions.schedulerInterval, 'step');
    const expected = [0.01, 0.055, 0.1, cosine(0.1, 1, 4), cosine(0.1, 2, 4), cosine(0.1, 3, 4)];
    lrs(steps, 6).forEach((lr, i) => assert.ok(Math.abs(lr - expected[i]!) < 1e-12, `step ${i}: ${lr} vs ${expected[i]}`));
  } finally {
    steps.dispose();
  }
  assert.deepEqual([stepsPerEpoch(5, 2), stepsPerEpoch(4, 2), stepsPerEpoch(4, 1)], [3, 2, 4]);
});

tensorTest('each schedule by name, with its lengths in epochs after the warm-up', () => {
  const param = torch.zeros([1], { requiresGrad: true });
  const base = { data: { train: 'x' }, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 10 };
  const seq = (scheduler: unknown, n = 6, extra = {}): { out: number[]; s: unknown } => {
    const c = parseRunConfig({ ...base, scheduler, ...extra });
    const opt = new SGD([param], { lr: c.optimizer.lr, momentum: 0.9 });
    const s = buildScheduler(c, opt, 3);
    if (c.scheduler.name === 'plateau') {
      opt.dispose();
      return { out: [], s };
    }
    const out = lrs({ optimizer: opt, scheduler: s }, n).map((v) => Number(v.toPrecision(12)));
    opt.dispose();
    return { out, s };
  };
  assert.deepEqual(seq({ name: 'step', stepSize: 2, gamma: 0.5 }).out, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  assert.deepEqual(
    seq({ name: 'multistep', milestones: [1, 3], warmupEpochs: 1, warmupStartFactor: 0.5 }).out,
    [0.05, 0.1, 0.01, 0.01, 0.001, 0.001],
  );
  assert.deepEqual(seq({ name: 'poly', power: 1, totalIters: 4 }).out, [0.1, 0.075, 0.05, 0.025, 0, 0]);
  assert.deepEqual(
    seq({ name: 'cosine-restarts', t0: 2, interval: 'step' }).out,
    [0.1, cosine(0.1, 1, 6), cosine(0.1, 2, 6), cosine(0.1, 3, 6), cosine(0.1, 4, 6), cosine(0.1, 5, 6)].map((v) =>
      Number(v.toPrecision(12)),
    ),
  );
  assert.equal(seq({ name: 'onecycle' }).out[0], 0.1 / 25);
  assert.equal((seq({ name: 'plateau' }, 0, { monitor: 'loss' }).s as { mode: string }).mode, 'min');
  assert.equal((seq({ name: 'plateau' }, 0, { monitor: 'iou' }).s as { mode: string }).mode, 'max');
  assert.equal(seq({ name: 'none' }, 0).s, undefined);
  param.dispose();
});

tensorTest('snapshot epochs are the ends of the cosine-restarts cycles, where the lr restarts', async () => {
  const config = (extra: object) =>
    parseRunConfig({ data: { train: 'x' }, scheduler: { name: 'cosine-restarts', t0: 2, tMult: 2 }, snapshots: true, ...extra });
  assert.deepEqual(snapshotEpochs(config({ epochs: 14 })), [2, 6, 14]);
  assert.deepEqual(snapshotEpochs(config({ epochs: 13 })), [2, 6]);
  assert.deepEqual(
    snapshotEpochs(config({ epochs: 15, scheduler: { name: 'cosine-restarts', t0: 2, tMult: 2, warmupEpochs: 1 } })),
    [3, 7, 15],
  );
  assert.deepEqual(snapshotEpochs({ ...config({ epochs: 14 }), snapshots: false }), []);
  const run = await buildRun(
    tiny(splitFile(), {
      scheduler: { name: 'cosine-restarts', t0: 2, tMult: 2 },
      snapshots: true,
      epochs: 14,
      optimizer: { name: 'sgd', lr: 0.1 },
    }),
  );
  try {
    assert.deepEqual(run.trainerOptions.snapshotEpochs, [2, 6, 14]);
    // The lr after epoch e (1-based) is the one at index e: back at 0.1 right after each cycle's end.
    const seq = lrs(run, 14);
    for (const e of [2, 6]) assert.ok(Math.abs(seq[e]! - 0.1) < 1e-12 && seq[e - 1]! < 0.1, `restart after epoch ${e}`);
  } finally {
    run.dispose();
  }
});

tensorTest('splits: a random split keeps regions whole, fold k of a grouped k-fold is one region, given val', async () => {
  const base = { model: { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [8, 8, 8] }, data: { train: REGIONS } };
  const region = (name: string) => name.split('/')[0]!;
  const r = await buildRun({ ...base, data: { ...base.data, split: { valFraction: 0.25, seed: 3, groupBy: 'group' } } });
  const folds = await buildRun({ ...base, data: { ...base.data, split: { folds: 4, fold: 1, groupBy: 'group' } } });
  const given = await buildRun({ ...base, data: { train: join(REGIONS, 'kavre'), val: join(REGIONS, 'nairobi') } });
  try {
    const trainRegions = new Set(r.split!.sides.train.map(region));
    const valRegions = new Set(r.split!.sides.val.map(region));
    assert.ok(valRegions.size >= 1 && [...valRegions].every((g) => !trainRegions.has(g)), 'no region on both sides');
    assert.equal(r.split!.sides.train.length + r.split!.sides.val.length, 253);
    assert.equal(new Set(folds.split!.sides.val.map(region)).size, 1);
    assert.deepEqual(folds.split!.params, { groupBy: 'group', k: 4, fold: 1 });
    assert.equal(folds.valSet!.length + folds.trainSet.length, 253);
    assert.deepEqual([given.split!.method, given.trainSet.length, given.valSet!.length], ['given', 40, 60]);
  } finally {
    for (const b of [r, folds, given]) b.dispose();
  }
});

tensorTest('optimizer paramGroups pick parameters by module path; the rest keep the defaults', async () => {
  const split = splitFile();
  const run = await buildRun(
    tiny(split, { optimizer: { name: 'sgd', lr: 0.1, paramGroups: [{ params: 'encoder', lr: 0.01, weightDecay: 0 }] } }),
  );
  try {
    const [enc, rest] = run.optimizer.paramGroups;
    assert.equal(run.optimizer.paramGroups.length, 2);
    assert.deepEqual([enc!.lr, enc!.weightDecay, enc!.params.length], [0.01, 0, run.model.encoder.parameters().length]);
    assert.deepEqual([rest!.lr, rest!.weightDecay, rest!.momentum], [0.1, 1e-4, 0.9]);
    assert.equal(enc!.params.length + rest!.params.length, run.model.parameters().length);
  } finally {
    run.dispose();
  }
  const issues = await asyncIssues(() =>
    buildRun(tiny(split, { optimizer: { paramGroups: [{ params: 'encodr' }] } }), { source: 'run.yaml' }),
  );
  assert.deepEqual(issues, [
    'run.yaml: optimizer.paramGroups[0].params: no parameter of the model is under "encodr" (its modules: encoder, decoder, segmentation_head)',
  ]);
});

tensorTest('a weighted sum of losses equals the sum of its weighted terms', async () => {
  const run = await buildRun(
    tiny(splitFile(), {
      loss: {
        terms: [
          { name: 'bce', weight: 0.8 },
          { name: 'dice', weight: 0.2, smooth: 1 },
        ],
      },
    }),
  );
  try {
    const [sum, bce, dice] = torch.tidy(() => {
      const pred = torch.linspace(-3, 3, 32).reshape([2, 1, 4, 4]);
      const target = torch
        .tensor([0, 1, 1, 0, 255, 1, 0, 0, 1, 1, 0, 0, 0, 1, 255, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0], {
          shape: [2, 1, 4, 4],
        })
        .float();
      return [
        run.loss.forward(pred, target).item(),
        new losses.SoftBCEWithLogitsLoss({ ignoreIndex: 255 }).forward(pred, target).item(),
        new losses.DiceLoss('binary', { ignoreIndex: 255, smooth: 1 }).forward(pred, target).item(),
      ];
    });
    assert.ok(Math.abs(sum - (0.8 * bce + 0.2 * dice)) < 1e-6, `${sum} vs ${0.8 * bce + 0.2 * dice}`);
    assert.deepEqual(
      (run.loss as losses.WeightedSum).lastParts().map((p) => [p.name, p.weight]),
      [
        ['bce', 0.8],
        ['dice', 0.2],
      ],
    );
  } finally {
    run.dispose();
  }
  assert.match(
    (await asyncIssues(() => buildRun(tiny(splitFile(), { loss: { name: 'ce' } }))))[0]!,
    /^config: loss: ce needs model\.classes of 2 or more, got 1/,
  );
});

tensorTest('trainFolds trains each fold of a grouped split into fold-<k> and reports the mean and std', async () => {
  // Two regions of three tiles each: a 2-fold split by region validates on one region per fold.
  const data = tmp();
  for (const [region, tiles] of [
    ['kavre', ['OAM-1546788-881052-21.png', 'OAM-1546788-881055-21.png', 'OAM-1546789-881052-21.png']],
    ['nairobi', ['OAM-1263512-1056200-21.png', 'OAM-1263513-1056200-21.png', 'OAM-1263512-1056205-21.png']],
  ] as const) {
    mkdirSync(join(data, region));
    for (const f of [...tiles, 'labels.geojson']) copyFileSync(join(REGIONS, region, f), join(data, region, f));
  }
  const runDir = join(tmp(), 'folds');
  const config = { ...tiny(''), data: { train: data, batchSize: 3, split: { folds: 2, groupBy: 'group' } }, epochs: 1, threads: 1 };
  const r = await trainFolds(config, { runDir });
  assert.equal(r.folds.length, 2);
  assert.equal(r.monitor, 'dice');
  const values = r.folds.map((f) => f.value);
  for (const f of r.folds) {
    assert.equal(f.runDir, join(runDir, `fold-${f.fold}`));
    assert.equal(f.result.reason, 'completed');
    assert.ok(Number.isFinite(f.value) && f.value >= 0 && f.value <= 1);
    const split = JSON.parse(readFileSync(join(f.runDir, 'split.json'), 'utf8'));
    assert.equal(new Set((split.sides ?? split).val.map((n: string) => n.split('/')[0])).size, 1);
  }
  const mean = (values[0]! + values[1]!) / 2;
  assert.ok(Math.abs(r.mean - mean) < 1e-12);
  assert.ok(Math.abs(r.std - Math.abs(values[0]! - values[1]!) / 2) < 1e-12);
  const summary = JSON.parse(readFileSync(join(runDir, 'folds.json'), 'utf8'));
  assert.deepEqual(
    summary.folds.map((f: { value: number }) => f.value),
    values,
  );
});

tensorTest("model.init starts the run from a trained checkpoint's weights; another model's checkpoint is refused", async () => {
  const shipped = join(ROOT, 'models', 'buildings', 'model.safetensors');
  const run = await buildRun(tiny(splitFile(), { model: { encoderName: 'mobilenet_v2', init: shipped } }));
  const { model: trained } = loadTrained(shipped);
  try {
    const theirs = trained.stateDict();
    const own = run.model.stateDict();
    assert.equal(Object.keys(own).length, Object.keys(theirs).length);
    for (const [k, v] of Object.entries(own)) assert.equal(maxAbsDiff(v, theirs[k]!), 0, k);
    assert.equal('init' in run.predict.modelOptions, false);
  } finally {
    trained.dispose();
    run.dispose();
  }
  const issues = await asyncIssues(() =>
    buildRun(tiny(splitFile(), { model: { encoderName: 'resnet18', init: shipped } }), { source: 'ft.yaml' }),
  );
  assert.equal(issues.length, 1);
  assert.match(issues[0]!, /^ft\.yaml: model\.init: .*model\.safetensors has encoderName "mobilenet_v2", this run's model has "resnet18"$/);
  const missing = await asyncIssues(() =>
    buildRun(tiny(splitFile(), { model: { init: join(tmp(), 'none.safetensors') } }), { source: 'ft.yaml' }),
  );
  assert.match(missing[0]!, /^ft\.yaml: model\.init: expected a checkpoint written by segkit train, but .*none\.safetensors/);
});
