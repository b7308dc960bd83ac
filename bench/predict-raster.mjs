// Raster prediction throughput: a SIDE x SIDE RGB GeoTIFF mosaic of the Kavre tiles (repeated),
// predicted by `segkit predict scene.tif --format geotiff` strip by strip with the shipped
// model; megapixels/s and the process's peak RSS, without and with TTA. Each run is its own
// process (/usr/bin/time -v reads the peak RSS). The PyTorch sliding-window loop to compare
// against is still to come (issue 12).
// Usage: node bench/predict-raster.mjs   (after `npm run build`; SEGKIT_BENCH_SIDE, default 4096)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data, geo, torch } from '../dist/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIDE = Number(process.env.SEGKIT_BENCH_SIDE ?? 4096);
const THREADS = process.env.SEGKIT_BENCH_THREADS ?? '2';
const dir = mkdtempSync(join(tmpdir(), 'segkit-bench-raster-'));
const scene = join(dir, 'scene.tif');

// The mosaic, written strip by strip (256 rows of repeated tiles at a time).
const ds = await data.open(join(ROOT, 'data/demo/regions/kavre'));
const tiles = [];
for (let i = 0; i < ds.length; i++) {
  const { image, mask } = await ds.get(i);
  tiles.push(torch.tidy(() => image.mul(255).round().to({ dtype: 'uint8' }).contiguous().toArray()));
  torch.dispose([image, mask]);
}
const writer = await geo.createGeoTiff(scene, {
  width: SIDE,
  height: SIDE,
  bands: 3,
  crs: 'EPSG:3857',
  transform: [9462000, 0.075, 0, -3106000, 0, -0.075],
});
for (let ty = 0; ty < SIDE / 256; ty++) {
  const strip = new Uint8Array(3 * 256 * SIDE);
  for (let tx = 0; tx < SIDE / 256; tx++) {
    const t = /** @type {Uint8Array} */ (tiles[(ty * 7 + tx) % tiles.length]);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 256; y++)
        strip.set(t.subarray(c * 65536 + y * 256, c * 65536 + y * 256 + 256), c * 256 * SIDE + y * SIDE + tx * 256);
  }
  await writer.writeWindow({ x: 0, y: ty * 256, width: SIDE, height: 256 }, strip);
}
await writer.close();

const rows = [];
for (const tta of ['none', 'flips']) {
  const out = join(dir, `out-${tta}`);
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-v',
      process.execPath,
      join(ROOT, 'dist/cli/main.js'),
      'predict',
      scene,
      '--out',
      out,
      '--format',
      'geotiff',
      '--tta',
      tta,
      '--device',
      'cpu',
      '--quiet',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: THREADS },
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  const seconds = Number(/wrote .* in ([\d.]+) s/.exec(r.stdout)?.[1]);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) / 1024;
  rows.push({ tta, seconds, mps: (SIDE * SIDE) / 1e6 / seconds, rss });
}
console.log(`segkit predict on a ${SIDE}x${SIDE} RGB GeoTIFF (shipped U-Net mobilenet_v2, window 512, overlap 128, ${THREADS} threads):`);
for (const r of rows)
  console.log(`  TTA ${r.tta.padEnd(5)} ${r.seconds.toFixed(1)} s  ${r.mps.toFixed(3)} MP/s  peak RSS ${r.rss.toFixed(0)} MB`);
rmSync(dir, { recursive: true, force: true });
