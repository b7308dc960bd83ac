// Addon state is per environment: worker threads get their own tensor tables and can train
// while the main thread's event loop stays free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { torch } from '../src/index.js';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');

function runWorker(code: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const w = new Worker(
      `import(${JSON.stringify(dist)}).then(async ({ torch, F }) => {
      const { parentPort } = await import('node:worker_threads');
      ${code}
    }).catch((e) => { throw e; });`,
      { eval: true },
    );
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (c) => c !== 0 && reject(new Error(`worker exited with ${c}`)));
  });
}

test('two workers and the main thread use the engine at the same time', async () => {
  const before = torch.liveTensors();
  const main = torch.ones([3]);
  const code = `
    const w = torch.randn([8, 3, 3, 3], { requiresGrad: true });
    const x = torch.randn([2, 3, 16, 16]);
    let last = 0;
    for (let i = 0; i < 20; i++) {
      last = torch.tidy(() => {
        const loss = F.conv2d(x, w, { padding: 1 }).pow(2).mean();
        loss.backward();
        torch.noGrad(() => { w.sub_(w.grad.mul(0.01)); w.grad = null; });
        return loss.item();
      });
    }
    const live = torch.liveTensors();
    torch.dispose([w, x]);
    parentPort.postMessage({ last, live, after: torch.liveTensors() });`;
  const results = (await Promise.all([runWorker(code), runWorker(code)])) as { last: number; live: number; after: number }[];
  for (const r of results) {
    assert.ok(Number.isFinite(r.last));
    assert.equal(r.live, 2, 'a worker counts only its own tensors');
    assert.equal(r.after, 0);
  }
  assert.equal(torch.liveTensors(), before + 1, "workers' tensors are not in the main thread's table");
  assert.deepEqual(Array.from<number | bigint>(main.toArray()), [1, 1, 1]);
  main.dispose();
});

test('a worker thread reads a GeoTIFF window and decodes a tile (geotiff.js loads without taking the thread)', async () => {
  const tif = join(dirname(fileURLToPath(import.meta.url)), 'data', 'spacenet4-atlanta', 'sample_geotiff.tif');
  const code = `
    const { geo, data } = await import(${JSON.stringify(dist)});
    const raster = await geo.openRaster(${JSON.stringify(tif)});
    const window = await raster.readWindow({ x: 100, y: 200, width: 64, height: 64 });
    await raster.close();
    let sum = 0;
    for (const v of window) sum += v;
    parentPort.postMessage({ sum, workerGlobal: typeof globalThis.Worker });
  `;
  const result = (await runWorker(code)) as { sum: number; workerGlobal: string };
  const { openRaster } = await import('../src/geo/geotiff.js');
  const raster = await openRaster(tif);
  const window = await raster.readWindow({ x: 100, y: 200, width: 64, height: 64 });
  await raster.close();
  let sum = 0;
  for (let i = 0; i < window.length; i++) sum += window[i]!;
  assert.equal(result.sum, sum);
  assert.equal(result.workerGlobal, 'undefined', 'the stand-in Worker is gone after the import');
});
