// `segkit train` and `segkit eval` as a user runs them (the built CLI in a child process) on a
// 3-level U-Net and a few demo tiles: JSON events in order, the human progress and end lines,
// the JSON Schema, a bad config, Ctrl-C then --resume ending bit-exactly where an uninterrupted
// run ends, and eval reproducing the best epoch's validation scores from the checkpoint alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../src/torch/serialization/index.js';
import { torch } from '../src/index.js';
import type { EndEvent, TrainEvent } from '../src/train/events.js';

import { REGIONS, TINY_TRAIN as TRAIN, TINY_VAL as VAL } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'segkit-cli-train-'));

/** A run config on 4 training and 2 validation tiles: 64 px crops, batches of `batchSize`. */
function writeConfig(name: string, batchSize: number, extra = ''): string {
  const split = join(work, 'split.json');
  writeFileSync(split, JSON.stringify({ version: 1, method: 'fixed', seed: 0, train: TRAIN, val: VAL }));
  const path = join(work, name);
  writeFileSync(
    path,
    `# a tiny run for the CLI tests
seed: 2
threads: 1
model: { encoderName: resnet18, encoderDepth: 3, decoderChannels: [32, 16, 8] }
data:
  train: ${REGIONS}
  split: { file: ${split} }
  batchSize: ${batchSize}
augment:
  - { name: RandomCrop, height: 64, width: 64 }
  - { name: HorizontalFlip }
optimizer: { name: adamw, lr: 0.003 }
scheduler: { name: cosine, warmupEpochs: 1 }
epochs: 2
logEvery: 1
${extra}`,
  );
  return path;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const events = (stdout: string): TrainEvent[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TrainEvent);

/** The model tensors of a checkpoint as float64 arrays by name. */
function modelTensors(path: string): Map<string, Float64Array> {
  const all = loadSafetensors(path);
  const out = new Map<string, Float64Array>();
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith('model'))
      out.set(
        k,
        torch.tidy(() => v.double().contiguous().toArray() as Float64Array),
      );
  }
  torch.dispose(Object.values(all));
  return out;
}

test('segkit train --json prints every event as one JSON line, from start to end, and nothing else', () => {
  const dir = join(work, 'json');
  const r = cli([
    'train',
    '--config',
    writeConfig('json.yaml', 2),
    '--epochs',
    '1',
    '--set',
    'scheduler.warmupEpochs=0',
    '--json',
    '--run-dir',
    dir,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const seen = events(r.stdout);
  const types = seen.map((e) => e.type);
  assert.equal(types[0], 'start');
  assert.equal(types.at(-1), 'end');
  assert.deepEqual(
    types.filter((t) => t !== 'checkpoint'),
    ['start', 'step', 'step', 'validation', 'epoch', 'end'],
  );
  const saved = seen.flatMap((e) => (e.type === 'checkpoint' ? [[e.kind, e.path]] : []));
  assert.deepEqual(saved.sort(), [
    ['best', join(dir, 'best.safetensors')],
    ['last', join(dir, 'last.safetensors')],
  ]);
  const start = seen[0] as Extract<TrainEvent, { type: 'start' }>;
  assert.deepEqual([start.trainImages, start.valImages, start.batchesPerEpoch, start.epochs], [4, 2, 2, 1]);
  const end = seen.at(-1) as EndEvent;
  assert.equal(end.reason, 'completed');
  assert.equal(end.checkpoint, join(dir, 'best.safetensors'));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual([config.epochs, config.scheduler.warmupEpochs], [1, 0], 'the flags are in the resolved config');
  assert.equal(config.optimizer.weightDecay, 0.01, 'defaults are written out');
  const split = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8'));
  assert.deepEqual((split.sides ?? split).val, VAL);
});

test('--print-schema prints the JSON Schema of run configs', () => {
  const r = cli(['train', '--print-schema']);
  assert.equal(r.status, 0, r.stderr);
  const schema = JSON.parse(r.stdout);
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.deepEqual(schema.required, ['data']);
  assert.ok(schema.properties.scheduler.oneOf.length >= 8);
});

test('a bad config exits 1 and names every bad field; so do bad flags', () => {
  const path = join(work, 'bad.yaml');
  writeFileSync(path, 'data: { train: tiles }\noptimizer: { name: adamx }\nepochs: -1\n');
  const r = cli(['train', '--config', path]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(`${path.replace(/[./]/g, '\\$&')}: optimizer\\.name: expected one of "adamw", "adam", "sgd", "rmsprop", got "adamx"`),
  );
  assert.match(r.stderr, /bad\.yaml: epochs: expected an integer >= 1, got -1/);
  const set = cli(['train', '--config', writeConfig('set.yaml', 2), '--set', 'augment[1].p=2', '--run-dir', join(work, 'never')]);
  assert.equal(set.status, 1);
  assert.match(set.stderr, /set\.yaml: augment\[1\]\.p: must be .*got 2 \(HorizontalFlip\)/);
  assert.equal(existsSync(join(work, 'never', 'config.json')), false, 'nothing trained');
  const resume = cli(['train', '--resume', join(work, 'json'), '--lr', '0.1']);
  assert.equal(resume.status, 1);
  assert.match(resume.stderr, /--resume continues a run as it was configured; only --epochs .* got --lr/);
});

test('Ctrl-C saves last.safetensors and exits 130; --resume then ends bit-exactly where an uninterrupted run does', async () => {
  const config = writeConfig('resume.yaml', 1);
  // The uninterrupted run, in human mode: stderr is a pipe, so progress comes as plain lines.
  const full = cli(['train', '--config', config, '--run-dir', join(work, 'full')]);
  assert.equal(full.status, 0, full.stderr);
  assert.match(full.stderr, /^epoch 1\/2 25% 1\/4 {2}loss \d\.\d{4} {2}dice \d\.\d{4} {2}\d+\.\d img\/s {2}ETA \d+s$/m);
  const lines = full.stdout.trim().split('\n');
  assert.match(lines[0]!, /^training 4 image\(s\), validating on 2: 4 batch\(es\) per epoch, 2 epoch\(s\)/);
  assert.match(
    lines[1]!,
    /^epoch 1\/2 {2}loss \d\.\d{4} dice \d\.\d{4} \| val loss \d\.\d{4} dice \d\.\d{4} iou .* \| lr 3\.00e-3 \| .* img\/s \*$/,
  );
  assert.match(lines.at(-4)!, /^done: trained 2 epochs \(\d+s\)$/);
  assert.match(
    lines.at(-3)!,
    /^best dice \d\.\d{4} at epoch [12]: loss \d\.\d{4} {2}iou \d\.\d{4} {2}dice \d\.\d{4} {2}precision .* objectF1 \d\.\d{4}$/,
  );
  assert.match(
    lines.at(-2)!,
    new RegExp(
      `^run folder ${join(work, 'full').replace(/[./]/g, '\\$&')}: report\\.html, log\\.jsonl, best\\.safetensors \\(the best epoch\\), last\\.safetensors$`,
    ),
  );
  // The last line says where the report is.
  assert.equal(lines.at(-1), `report: ${join(work, 'full', 'report.html')} (open it in a browser)`);

  // The same run, interrupted after its first step.
  const runDir = join(work, 'cut');
  const child = spawn(process.execPath, [CLI, 'train', '--config', config, '--run-dir', runDir, '--json'], { cwd: work });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const seen: TrainEvent[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    const e = JSON.parse(line) as TrainEvent;
    seen.push(e);
    // Twice at once, as `timeout -s INT` delivers it (to the child, then to its group): one stop.
    if (e.type === 'step' && e.step === 1) {
      child.kill('SIGINT');
      child.kill('SIGINT');
    }
  }
  const code = await new Promise<number | null>((res) => (child.exitCode !== null ? res(child.exitCode) : child.on('exit', (c) => res(c))));
  assert.equal(code, 130, stderr);
  const end = seen.at(-1) as EndEvent;
  assert.equal(end.reason, 'interrupted');
  const last = seen.filter((e) => e.type === 'step').at(-1)!;
  assert.ok(last.step < 8, 'interrupted before the end');
  assert.match(
    stderr,
    new RegExp(
      `interrupted at epoch ${last.epoch} step ${last.step}; resume with: segkit train --resume ${runDir.replace(/[./]/g, '\\$&')}\\n`,
    ),
  );
  assert.ok(existsSync(join(runDir, 'last.safetensors')));

  const resumed = cli(['train', '--resume', runDir, '--quiet']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /^done: trained 2 epochs/);
  assert.equal(resumed.stdout.trim().split('\n').length, 4, '--quiet prints the end lines only');
  // A new run into a folder that holds one is refused before anything is written.
  const before = readFileSync(join(runDir, 'log.jsonl'));
  const again = cli(['train', '--config', config, '--run-dir', runDir, '--quiet']);
  assert.equal(again.status, 1);
  assert.match(
    again.stderr,
    /Trainer: runDir must be a folder without a run in it \(it holds log\.jsonl, last\.safetensors, best\.safetensors: pass resume: .* to continue that run, or another runDir\), got '.*cut'/,
  );
  assert.deepEqual(readFileSync(join(runDir, 'log.jsonl')), before, 'the log is untouched');
  const a = modelTensors(join(work, 'full', 'last.safetensors'));
  const b = modelTensors(join(runDir, 'last.safetensors'));
  assert.ok(a.size > 10);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, `${k} differs`);
});

test('a non-finite loss ends the run with its message and exit status 1', () => {
  const dir = join(work, 'nan');
  const r = cli([
    'train',
    '--config',
    writeConfig('nan.yaml', 2),
    '--set',
    'optimizer={name: sgd, lr: 1e30, momentum: 0}',
    '--set',
    'loss.name=bce',
    '--run-dir',
    dir,
  ]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^segkit: the loss became NaN at epoch 1, batch 2 of 2 \(step 2\)/m);
  assert.match(r.stdout, /^non-finite-loss: the loss became NaN/m);
  assert.equal(existsSync(join(dir, 'best.safetensors')), false);
});

test('segkit eval --json scores a checkpoint: the six scores first, as the best validation had them', () => {
  const dir = join(work, 'json');
  // The 1-epoch run of the first test: its best validation's scores are in its log.
  const log = readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TrainEvent);
  const validation = log.find((e) => e.type === 'validation' && e.best) as Extract<TrainEvent, { type: 'validation' }>;
  // The validation tiles alone, as a dataset of their own.
  const data = join(work, 'val-tiles');
  for (const name of VAL) {
    const [region, tile] = name.split('/') as [string, string];
    mkdirSync(join(data, region), { recursive: true });
    copyFileSync(join(REGIONS, region, `${tile}.png`), join(data, region, `${tile}.png`));
    copyFileSync(join(REGIONS, region, 'labels.geojson'), join(data, region, 'labels.geojson'));
  }
  const r = cli(['eval', '--model', join(dir, 'best.safetensors'), '--data', data, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['iou', 'dice', 'precision', 'recall', 'tianchi', 'objectF1', 'images', 'confusion']);
  assert.equal(out.images, 2);
  const c = out.confusion;
  assert.equal(c.tp + c.fp + c.fn + c.tn, 2 * 256 * 256);
  for (const k of ['iou', 'dice', 'precision', 'recall', 'tianchi', 'objectF1'] as const)
    assert.ok(Math.abs(out[k] - validation.metrics[k]) < 1e-9, `${k}: eval ${out[k]}, validation ${validation.metrics[k]}`);
  assert.deepEqual(c, validation.metrics.confusion);
  const human = cli(['eval', '--model', join(dir, 'best.safetensors'), '--data', data, '--threshold', '0.3']);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /\(2 image\(s\), threshold 0\.3\):\n {2}iou {8}\d\.\d{4}\n {2}dice {7}\d\.\d{4}\n/);
});
