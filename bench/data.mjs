// Data pipeline throughput: decoded and augmented images/s on the real Catanduanes tiles (256x256,
// batch 8, random horizontal and vertical flips and a 224x224 random crop), segkit's DataLoader
// against PyTorch's DataLoader with PIL (2 worker processes, as the issue asks, and 0) in the same
// run; and rasterising: segkit against gdal_rasterize on the same grid, time and IoU.
// Usage: node bench/data.mjs   (after `npm run build`; gdal-bin for the rasterising half)
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { data, geo, torch } from '../dist/index.js';
import { PYTHON, nowNs, printMachine, printTable, report } from './common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TILES = join(ROOT, 'test/data/oam-catanduanes');
const EPOCHS = Number(process.env.SEGKIT_BENCH_EPOCHS ?? 5);
const BATCH = 8;
const CROP = 224;
const TUNED = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456';

printMachine('data pipeline');
const work = await mkdtemp(join(tmpdir(), 'segkit-bench-data-'));
try {
  // One folder both sides read: the tiles' JPEG bytes as they are, masks rasterised once by segkit.
  const folder = join(work, 'folder');
  await data.convertDataset(TILES, { to: 'folder', out: folder });

  const augment = () =>
    new data.Compose([
      new data.HorizontalFlip({ p: 0.5 }),
      new data.VerticalFlip({ p: 0.5 }),
      new data.RandomCrop({ height: CROP, width: CROP }),
    ]);

  async function segkit(ds, label) {
    const loader = new data.DataLoader(ds, { batchSize: BATCH, shuffle: true, seed: 0, prefetch: 2, transform: augment() });
    const epoch = async () => {
      let n = 0;
      for await (const b of loader) {
        n += b.image.shape[0];
        b.image.dispose();
        b.mask.dispose();
      }
      return n;
    };
    await epoch(); // warm-up: file cache, first-call costs
    const t0 = nowNs();
    let n = 0;
    for (let e = 0; e < EPOCHS; e++) n += await epoch();
    const s = (nowNs() - t0) / 1e9;
    return { label, images: n, seconds: s, rate: n / s };
  }

  function pytorch(workers, tuned = false) {
    const env = tuned ? { ...process.env, GLIBC_TUNABLES: TUNED } : process.env;
    const r = spawnSync(PYTHON, [join(ROOT, 'bench/torch_data.py'), folder, String(EPOCHS), String(workers), String(BATCH), String(CROP)], {
      encoding: 'utf8',
      env,
    });
    if (r.status !== 0) throw new Error(`bench/torch_data.py failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    return {
      label: `PyTorch DataLoader + PIL, ${workers} workers`,
      images: out.images,
      seconds: out.seconds,
      rate: out.images / out.seconds,
    };
  }

  const rows = [];
  const folderDs = await data.FolderDataset.open(folder);
  const tilesDs = await data.TilesDataset.open(TILES);
  const ours = await segkit(folderDs, 'segkit DataLoader, folder (JPEG + mask PNG)');
  const tilesRun = await segkit(tilesDs, 'segkit DataLoader, tiles + GeoJSON (rasterised per sample)');
  // segkit's own switch for the page faults of freed tensor memory, against glibc tuned the same way for PyTorch.
  torch.setAllocatorCache(256 * 2 ** 20);
  const oursTuned = await segkit(folderDs, 'segkit DataLoader, folder, setAllocatorCache');
  const tilesTuned = await segkit(tilesDs, 'segkit DataLoader, tiles, setAllocatorCache');
  torch.setAllocatorCache(0);
  const py2 = pytorch(2);
  const py2t = pytorch(2, true);
  const py0 = pytorch(0);
  for (const r of [ours, tilesRun, oursTuned, tilesTuned, py2, py2t, py0])
    rows.push([r.label, r.images, r.seconds.toFixed(2), r.rate.toFixed(0), (r.rate / py2.rate).toFixed(2)]);
  printTable(['pipeline (256x256 tiles, batch 8, flips + 224 crop)', 'images', 's', 'images/s', 'vs PyTorch 2 workers'], rows);
  report('data', 'images/s vs PyTorch DataLoader (2 workers)', (ours.rate / py2.rate).toFixed(2), '>= 1', ours.rate >= py2.rate);
  report('data', 'images/s, both tuned', (oursTuned.rate / py2t.rate).toFixed(2), '>= 1', oursTuned.rate >= py2t.rate);

  // Rasterising: every Catanduanes building onto one grid at zoom 21 resolution, segkit vs gdal_rasterize.
  const labels = await geo.readGeoJson(join(TILES, 'labels.geojson'));
  const merc = geo.transformPolygons(labels.polygons, geo.reprojector(labels.crs, 'EPSG:3857'));
  let [minx, miny, maxx, maxy] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of merc)
    for (const [x, y] of p[0]) {
      minx = Math.min(minx, x);
      maxx = Math.max(maxx, x);
      miny = Math.min(miny, y);
      maxy = Math.max(maxy, y);
    }
  const res = geo.tileTransform({ x: 0, y: 0, z: 21 }, 256)[1];
  const width = Math.ceil((maxx - minx) / res);
  const height = Math.ceil((maxy - miny) / res);
  const inverse = geo.invertTransform([minx, res, 0, maxy, 0, -res]);
  const t0 = nowNs();
  const REPS = 5;
  let mask;
  for (let i = 0; i < REPS; i++) mask = geo.rasterize(geo.polygonsToPixels(merc, inverse), { width, height });
  const oursMs = (nowNs() - t0) / 1e6 / REPS;
  const gdal = spawnSync('gdal_rasterize', ['--version'], { encoding: 'utf8' });
  const rrows = [['segkit rasterize (centre rule)', `${width}x${height}`, merc.length, oursMs.toFixed(1), '']];
  if (gdal.status === 0) {
    const src = join(work, 'labels3857.geojson');
    const out = join(work, 'gdal.tif');
    spawnSync('ogr2ogr', ['-t_srs', 'EPSG:3857', '-f', 'GeoJSON', src, join(TILES, 'labels.geojson')]);
    const args = [
      '-q',
      '-burn',
      '1',
      '-ot',
      'Byte',
      '-te',
      minx,
      maxy - height * res,
      minx + width * res,
      maxy,
      '-ts',
      width,
      height,
      src,
      out,
    ].map(String);
    const g0 = nowNs();
    const g = spawnSync('gdal_rasterize', args, { encoding: 'utf8' });
    const gdalMs = (nowNs() - g0) / 1e6;
    if (g.status !== 0) throw new Error(`gdal_rasterize failed: ${g.stderr}`);
    const { data: ref } = await sharp(await readFile(out))
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    let inter = 0;
    let union = 0;
    let differ = 0;
    for (let p = 0; p < mask.length; p++) {
      if (mask[p] && ref[p]) inter++;
      if (mask[p] || ref[p]) union++;
      if (mask[p] !== ref[p]) differ++;
    }
    rrows.push(['gdal_rasterize 3.x (process, incl. start and file I/O)', `${width}x${height}`, merc.length, gdalMs.toFixed(1), '']);
    rrows[0][4] = `IoU ${(inter / union).toFixed(6)}, ${differ} px differ`;
    report('data', 'rasterise IoU vs gdal_rasterize', (inter / union).toFixed(6), '>= 0.999', inter / union >= 0.999);
  }
  printTable(['rasteriser', 'grid', 'polygons', 'ms', 'agreement'], rrows);
} finally {
  await rm(work, { recursive: true, force: true });
}
