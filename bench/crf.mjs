// crf: the dense CRF (DeepLab v1's parameters) on a 512x512 tile, K = 2, 10 mean-field
// iterations, one thread; and the IoU it gains on the real demo tiles over a coarse prediction
// (a stride-8 view of the true mask: 8x8 block means repeated back to full size, through a
// logistic of slope 20). Under a minute.
import { fileURLToPath } from 'node:url';
import { data } from '../dist/index.js';
import { denseCrf } from '../dist/infer/index.js';
import { nowNs, printMachine, printTable, report } from './common.mjs';

const REGIONS = fileURLToPath(new URL('../data/demo/regions/', import.meta.url));
const TILES_PER_REGION = 6;

function coarsePrediction(mask, w, h, f = 8) {
  const sw = Math.ceil(w / f);
  const small = new Float32Array(sw * Math.ceil(h / f));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) small[Math.floor(y / f) * sw + Math.floor(x / f)] += mask[y * w + x] / (f * f);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = 1 / (1 + Math.exp(-20 * (small[Math.floor(y / f) * sw + Math.floor(x / f)] - 0.5)));
  }
  return out;
}

function iou(p, truth) {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = p[i] > 0.5 ? 1 : 0;
    inter += a & truth[i];
    union += a | truth[i];
  }
  return union === 0 ? 1 : inter / union;
}

/** RGB bytes (HWC) and a 0/1 mask of sample i. */
async function tile(ds, i) {
  const { image, mask } = await ds.get(i);
  const [, h, w] = image.shape;
  const chw = image.toArray();
  const m = mask.toArray();
  image.dispose();
  mask.dispose();
  const rgb = new Uint8Array(w * h * 3);
  for (let c = 0; c < 3; c++) for (let j = 0; j < w * h; j++) rgb[j * 3 + c] = Math.round(chw[c * w * h + j] * 255);
  return { rgb, truth: Uint8Array.from(m, (v) => (v === 1n ? 1 : 0)), w, h };
}

printMachine('crf: dense CRF (DeepLab v1 parameters), 1 thread');

// Timing: four real 256x256 tiles side by side.
const kavre = await data.open(`${REGIONS}kavre`);
const size = 512;
const rgb = new Uint8Array(size * size * 3);
const truth = new Uint8Array(size * size);
for (let q = 0; q < 4; q++) {
  const t = await tile(kavre, q * 7);
  const ox = (q % 2) * 256;
  const oy = Math.floor(q / 2) * 256;
  for (let y = 0; y < 256; y++) {
    for (let x = 0; x < 256; x++) {
      const o = (oy + y) * size + ox + x;
      rgb.set(t.rgb.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3), o * 3);
      truth[o] = t.truth[y * 256 + x];
    }
  }
}
const p = coarsePrediction(truth, size, size);
denseCrf(rgb, p, { width: size, height: size });
const times = [];
for (let i = 0; i < 7; i++) {
  const t0 = nowNs();
  denseCrf(rgb, p, { width: size, height: size });
  times.push((nowNs() - t0) / 1e6);
}
times.sort((a, b) => a - b);
console.log(`512x512, K = 2, 10 iterations: median ${times[3].toFixed(0)} ms, best ${times[0].toFixed(0)} ms (7 runs)`);
report('crf', 'ms per 512x512 tile (best of 7)', Number(times[0].toFixed(1)), '< 1000', times[0] < 1000);

// IoU on real tiles.
const rows = [];
let before = 0;
let after = 0;
let count = 0;
for (const region of ['kavre', 'catanduanes', 'zanzibar', 'nairobi']) {
  const ds = await data.open(`${REGIONS}${region}`);
  let b = 0;
  let a = 0;
  const step = Math.floor(ds.length / TILES_PER_REGION);
  for (let k = 0; k < TILES_PER_REGION; k++) {
    const t = await tile(ds, k * step);
    const coarse = coarsePrediction(t.truth, t.w, t.h);
    b += iou(coarse, t.truth);
    a += iou(denseCrf(t.rgb, coarse, { width: t.w, height: t.h }), t.truth);
  }
  rows.push([region, TILES_PER_REGION, (b / TILES_PER_REGION).toFixed(4), (a / TILES_PER_REGION).toFixed(4)]);
  before += b;
  after += a;
  count += TILES_PER_REGION;
}
rows.push(['all', count, (before / count).toFixed(4), (after / count).toFixed(4)]);
printTable(['region', 'tiles', 'IoU coarse', 'IoU + CRF'], rows);
report('crf', 'IoU gain on real tiles (coarse prediction + CRF)', Number(((after - before) / count).toFixed(4)), '> 0', after > before);
