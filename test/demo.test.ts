// The demo job on the bundled real tiles: the loss falls and no tensor outlives the run.
import assert from 'node:assert/strict';
import { tensorTest } from './helpers.js';
import { runDemo } from '../src/cli/demo.js';

tensorTest('a small conv net trained with SGD on real tiles: the loss falls', async () => {
  const lines: string[] = [];
  const r = await runDemo({ epochs: 8, seed: 0, log: (l) => lines.push(l) });
  assert.equal(r.losses.length, 8);
  assert.ok(r.losses.every(Number.isFinite));
  const firstTwo = (r.losses[0]! + r.losses[1]!) / 2;
  const lastTwo = (r.losses[6]! + r.losses[7]!) / 2;
  assert.ok(lastTwo < firstTwo * 0.95, `loss should fall: ${r.losses.map((l) => l.toFixed(4)).join(' ')}`);
  assert.ok(r.valIoU >= 0 && r.valIoU <= 1 && r.valDice >= 0 && r.valDice <= 1);
  assert.match(lines.at(-1)!, /validation IoU/);
});
