// Checkpoints: resuming gives the same loss sequence as a run never interrupted; saving is
// atomic; bad files give errors naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { torch, F } from '../src/index.js';
import * as nn from '../src/torch/nn/index.js';
import { AdamW, CosineAnnealingLR, ModelEma } from '../src/torch/optim/index.js';
import { Random } from '../src/data/random.js';
import { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from '../src/train/checkpoint.js';
import { assertThrows, tensorTest } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'segkit-ckpt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small net with BatchNorm (buffers, num_batches_tracked) and dropout (libtorch's RNG). */
function setup(seed: number, channels = 8) {
  torch.manualSeed(seed);
  const model = new nn.Sequential(
    new nn.Conv2d(3, channels, 3, { padding: 1 }),
    new nn.BatchNorm2d(channels),
    new nn.ReLU(),
    new nn.Dropout2d({ p: 0.2 }),
    new nn.Conv2d(channels, 1, 1),
  );
  const optimizer = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.01 });
  const scheduler = new CosineAnnealingLR(optimizer, { tMax: 12 });
  const ema = new ModelEma(model.parameters(), { decay: 0.9 });
  return { model, optimizer, scheduler, ema, random: new Random(seed + 100) };
}
type Setup = ReturnType<typeof setup>;
const disposeSetup = (s: Setup) => {
  s.model.dispose();
  s.optimizer.dispose();
  s.ema.dispose();
};

const pool = torch.tidy(() => {
  torch.manualSeed(42);
  return { x: torch.randn([16, 3, 12, 12]), y: torch.rand([16, 1, 12, 12]).gt(0.6).float() };
});
after(() => torch.dispose(pool));

function train(s: Setup, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    losses.push(
      torch.tidy(() => {
        // The JS generator picks the batch and a flip; libtorch's RNG drives dropout.
        const idx = torch.tensor(BigInt64Array.from(s.random.shuffle([...Array(16).keys()]).slice(0, 4), BigInt));
        let x = pool.x.indexSelect(0, idx);
        let y = pool.y.indexSelect(0, idx);
        if (s.random.next() < 0.5) [x, y] = [x.flip(3), y.flip(3)];
        const loss = F.binaryCrossEntropyWithLogits(s.model.forward(x), y);
        s.optimizer.zeroGrad();
        loss.backward();
        s.optimizer.step();
        s.scheduler.step();
        s.ema.update(s.model.parameters());
        return loss.item();
      }),
    );
  }
  return losses;
}

describe('checkpoints', () => {
  tensorTest('resuming from a checkpoint continues the exact loss sequence', () => {
    const straight = setup(1);
    const expected = train(straight, 12);
    disposeSetup(straight);

    const first = setup(1);
    const head = train(first, 5);
    const path = join(dir, 'run.safetensors');
    saveCheckpoint(path, {
      model: first.model,
      optimizer: first.optimizer,
      scheduler: first.scheduler,
      extra: { ema: first.ema },
      epoch: 1,
      step: 5,
      random: first.random,
      config: { lr: 1e-2, note: 'unit test' },
    });
    train(first, 3); // the run goes on and changes every state after the save
    disposeSetup(first);

    const resumed = setup(7); // different seed: everything must come from the file
    const info = loadCheckpoint(path, {
      model: resumed.model,
      optimizer: resumed.optimizer,
      scheduler: resumed.scheduler,
      extra: { ema: resumed.ema },
      random: resumed.random,
    });
    assert.deepEqual([info.epoch, info.step, info.config], [1, 5, { lr: 1e-2, note: 'unit test' }]);
    assert.deepEqual(readCheckpointInfo(path).config, { lr: 1e-2, note: 'unit test' });
    const tail = train(resumed, 7);
    assert.deepEqual([...head, ...tail], expected, 'the resumed run matches the uninterrupted one bit for bit');
    disposeSetup(resumed);
  });

  tensorTest('a failed save leaves the previous checkpoint intact and no temporary file', () => {
    const s = setup(2);
    const path = join(dir, 'keep.safetensors');
    saveCheckpoint(path, { model: s.model, step: 1 });
    const before = readFileSync(path);
    const broken = {
      stateDict: () => {
        throw new Error('disk full (simulated)');
      },
      loadStateDict: () => undefined,
    };
    assert.throws(() => saveCheckpoint(path, { model: s.model, optimizer: broken }), /disk full/);
    assert.throws(
      () => saveCheckpoint(join(dir, 'no', 'such', 'dir.safetensors'), { model: s.model }),
      (e: Error) => /saveCheckpoint: cannot write .*no\/such\/dir\.safetensors/.test(e.message),
    );
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
    );
    assert.equal(readCheckpointInfo(path).step, 1);
    disposeSetup(s);
  });

  tensorTest('bad files give errors naming the file and what is wrong', () => {
    const s = setup(3);
    const path = join(dir, 'good.safetensors');
    saveCheckpoint(path, { model: s.model, optimizer: s.optimizer });
    const bytes = readFileSync(path);
    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    assertThrows(() => loadCheckpoint(truncated, { model: s.model }), Error, /truncated\.safetensors/);
    const weights = join(dir, 'weights.safetensors');
    torch.saveSafetensors(weights, s.model.stateDict());
    assertThrows(() => loadCheckpoint(weights, { model: s.model }), Error, /weights\.safetensors is not a segkit checkpoint/);
    assertThrows(() => loadCheckpoint(join(dir, 'missing.safetensors'), { model: s.model }), Error, /cannot read .*missing\.safetensors/);
    const other = setup(3, 4);
    assertThrows(
      () => loadCheckpoint(path, { model: other.model }),
      Error,
      /good\.safetensors: cannot restore the model/,
      /size mismatch for 0\.weight/,
    );
    assertThrows(() => loadCheckpoint(path, { model: s.model, scheduler: s.scheduler }), Error, /holds no scheduler state/);
    disposeSetup(s);
    disposeSetup(other);
  });
});
