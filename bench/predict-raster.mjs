// Raster prediction throughput and memory: a SIDE x SIDE RGB GeoTIFF mosaic of the Kavre tiles
// (repeated), predicted strip by strip into a mask GeoTIFF with the shipped model by segkit
// (bench/predict-raster-worker.mjs: createPredictor + predictGeoTiff, as `segkit predict`) and by
// the same sliding-window loop written in PyTorch on smp's own Unet (bench/torch_predict_raster.py),
// with and without TTA, in the same run. Each prediction is its own process and reports its own
// peak RSS. PyTorch runs twice: as installed, and with glibc tuned as segkit tunes it (its
// allocator cache). The two masks are compared pixel by pixel.
// Usage: node bench/predict-raster.mjs   (after `npm run build`)
//   SEGKIT_BENCH_SIDE (default 10000), SEGKIT_BENCH_TTA (default none,flips),
//   SEGKIT_BENCH_DEVICE (default cpu), SEGKIT_BENCH_THREADS (default 2),
//   SEGKIT_BENCH_TUNED=0 skips the tuned PyTorch runs (on a GPU host malloc hardly counts)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data, geo, torch } from '../dist/index.js';
import { PYTHON, printMachine, printTable, report } from './common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIDE = Number(process.env.SEGKIT_BENCH_SIDE ?? 10000);
const TTAS = (process.env.SEGKIT_BENCH_TTA ?? 'none,flips').split(',');
const DEVICE = process.env.SEGKIT_BENCH_DEVICE ?? 'cpu';
const THREADS = process.env.SEGKIT_BENCH_THREADS ?? '2';
const MODEL = process.env.SEGKIT_BENCH_MODEL ?? join(ROOT, 'models/buildings/model.safetensors');
const TUNED = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456';
const WITH_TUNED = process.env.SEGKIT_BENCH_TUNED !== '0';
const TILE = 256;

printMachine(`raster prediction, ${SIDE}x${SIDE}, ${DEVICE}`);
const dir = mkdtempSync(join(tmpdir(), 'segkit-bench-raster-'));
const scene = join(dir, 'scene.tif');

// The mosaic, written strip by strip (one row of repeated tiles at a time).
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
for (let ty = 0; ty * TILE < SIDE; ty++) {
  const rows = Math.min(TILE, SIDE - ty * TILE);
  const strip = new Uint8Array(3 * rows * SIDE);
  for (let tx = 0; tx * TILE < SIDE; tx++) {
    const t = /** @type {Uint8Array} */ (tiles[(ty * 7 + tx) % tiles.length]);
    const cols = Math.min(TILE, SIDE - tx * TILE);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < rows; y++)
        strip.set(t.subarray(c * TILE * TILE + y * TILE, c * TILE * TILE + y * TILE + cols), c * rows * SIDE + y * SIDE + tx * TILE);
  }
  await writer.writeWindow({ x: 0, y: ty * TILE, width: SIDE, height: rows }, strip);
}
await writer.close();

function run(command, args, env) {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: THREADS, ...env }, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  // Each result as it comes, so a long run cut short keeps what it measured.
  console.error(JSON.stringify({ run: [command, ...args.slice(0, 1), ...args.slice(3)].join(' '), env, ...result }));
  return result;
}

const mp = (SIDE * SIDE) / 1e6;
const rows = [];
let source = '';
for (const tta of TTAS) {
  const ours = join(dir, `segkit-${tta}.tif`);
  const theirs = join(dir, `torch-${tta}.tif`);
  const s = run(process.execPath, [join(ROOT, 'bench/predict-raster-worker.mjs'), scene, MODEL, ours, tta, DEVICE, THREADS]);
  const argv = [join(ROOT, 'bench/torch_predict_raster.py'), scene, MODEL, theirs, tta, DEVICE, THREADS];
  const p = run(PYTHON, argv, { SMP_STAND_INS: '1' });
  const pt = WITH_TUNED ? run(PYTHON, argv, { SMP_STAND_INS: '1', GLIBC_TUNABLES: TUNED }) : null;
  source = p.source;
  const same = run(PYTHON, [join(ROOT, 'bench/torch_predict_raster.py'), '--compare', ours, theirs]);
  rows.push({ tta, s, p, pt, same });
  console.log(
    `TTA ${tta}: segkit ${s.seconds.toFixed(1)} s, PyTorch ${p.seconds.toFixed(1)} s${pt ? `, tuned ${pt.seconds.toFixed(1)} s` : ''}`,
  );
  rmSync(ours, { force: true });
  rmSync(theirs, { force: true });
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `\nRGB GeoTIFF ${SIDE}x${SIDE} (${mp.toFixed(1)} MP) -> mask GeoTIFF; shipped U-Net mobilenet_v2, window 512, overlap 128, batch 4, ${DEVICE}, ${THREADS} threads`,
);
console.log(`PyTorch: ${source}, the same loop (bench/torch_predict_raster.py; reads the raster whole with PIL)`);
printTable(
  [
    'TTA',
    'segkit MP/s',
    'PyTorch MP/s',
    'tuned MP/s',
    'vs PyTorch',
    'vs tuned',
    'segkit RSS MB',
    'PyTorch RSS MB',
    'tuned RSS MB',
    'masks agree',
  ],
  rows.map(({ tta, s, p, pt, same }) => [
    tta,
    (mp / s.seconds).toFixed(3),
    (mp / p.seconds).toFixed(3),
    pt ? (mp / pt.seconds).toFixed(3) : '-',
    `${(p.seconds / s.seconds).toFixed(2)}x`,
    pt ? `${(pt.seconds / s.seconds).toFixed(2)}x` : '-',
    s.maxRssMb.toFixed(0),
    p.maxRssMb.toFixed(0),
    pt ? pt.maxRssMb.toFixed(0) : '-',
    `${(100 * same.agree).toFixed(3)}%`,
  ]),
);
for (const { tta, s, p, pt } of rows) {
  report('predict-raster', `${DEVICE} ${tta} speed vs PyTorch`, +(p.seconds / s.seconds).toFixed(3), '>= 1', p.seconds >= s.seconds);
  if (pt)
    report(
      'predict-raster',
      `${DEVICE} ${tta} speed vs PyTorch tuned`,
      +(pt.seconds / s.seconds).toFixed(3),
      '>= 1',
      pt.seconds >= s.seconds,
    );
}
