// GeoTIFF writing speed and memory: a 10,000 x 10,000 uint8 building mask written in 512 x 512
// windows, row by row, with deflate (predictor 2), LZW (predictor 2) and no compression, and in
// 500 x 500 windows, which straddle tiles, so that partial tiles wait in memory. Each
// compression runs in its own child process so that its peak RSS is its own. Imports the geo layer
// from dist/ (`npx tsc -p tsconfig.json` first) rather than the package root, so that libtorch is
// not loaded and the RSS measured is the writer's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SIZE = 10000;

/** A mask with building-like blocks: a hashed 64-pixel grid, about a third of cells built, inset by 8 pixels. */
function fillWindow(px, x0, y0, w, h) {
  for (let y = 0; y < h; y++) {
    const gy = y0 + y;
    const cy = gy >> 6;
    const iy = gy & 63;
    for (let x = 0; x < w; x++) {
      const gx = x0 + x;
      const cx = gx >> 6;
      const ix = gx & 63;
      const hash = Math.imul((cx * 73856093) ^ (cy * 19349663), 0x9e3779b1) >>> 24;
      px[y * w + x] = hash < 85 && ix >= 8 && ix < 56 && iy >= 8 && iy < 56 ? 1 : 0;
    }
  }
}

async function one(compression, WINDOW, path) {
  const { createGeoTiff } = await import('../dist/geo/index.js');
  const t0 = performance.now();
  let fillMs = 0;
  const w = await createGeoTiff(path, {
    width: SIZE,
    height: SIZE,
    compression,
    crs: 32616,
    transform: [733601, 0.5, 0, 3725139, 0, -0.5],
  });
  const px = new Uint8Array(WINDOW * WINDOW);
  for (let y = 0; y < SIZE; y += WINDOW) {
    for (let x = 0; x < SIZE; x += WINDOW) {
      const win = { x, y, width: Math.min(WINDOW, SIZE - x), height: Math.min(WINDOW, SIZE - y) };
      const f0 = performance.now();
      const data = px.subarray(0, win.width * win.height);
      fillWindow(data, x, y, win.width, win.height);
      fillMs += performance.now() - f0;
      await w.writeWindow(win, data);
    }
  }
  await w.close();
  const ms = performance.now() - t0 - fillMs;
  const out = {
    compression,
    window: WINDOW,
    seconds: +(ms / 1000).toFixed(2),
    mbPerS: +((SIZE * SIZE) / 1e6 / (ms / 1000)).toFixed(1),
    fileMb: +(statSync(path).size / 1e6).toFixed(2),
    peakBufferedMb: +(w.peakBufferedBytes / 1e6).toFixed(2),
    peakRssMb: +(process.resourceUsage().maxRSS / 1024).toFixed(0),
  };
  console.log(JSON.stringify(out));
}

if (process.argv[2] === '--one') {
  await one(process.argv[3], Number(process.argv[4]), process.argv[5]);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'segkit-bench-gtw-'));
  try {
    console.log(`geotiff-write: ${SIZE} x ${SIZE} uint8 mask (${(SIZE * SIZE) / 1e6} MB raw), windows row by row, 256 x 256 tiles`);
    const rows = [];
    for (const [c, window] of [
      ['none', 512],
      ['deflate', 512],
      ['lzw', 512],
      ['deflate', 500],
    ]) {
      const args = [fileURLToPath(import.meta.url), '--one', String(c), String(window), join(dir, `${c}.tif`)];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${c}: ${r.stderr}`);
      rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
      rmSync(join(dir, `${c}.tif`));
    }
    console.table(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
