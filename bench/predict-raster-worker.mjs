// One raster prediction in a fresh process, as `segkit predict scene.tif --format geotiff` runs it
// (createPredictor with its defaults, predictGeoTiff writing the mask); prints one JSON line with
// the seconds and this process's peak RSS.
// Usage: node bench/predict-raster-worker.mjs <scene.tif> <checkpoint> <mask.tif> <tta> <device> <threads>
import { infer, torch } from '../dist/index.js';

const [scene, checkpoint, out, tta, device, threads] = process.argv.slice(2);
/** @type {'none' | 'flips' | 'd4'} */
const mode = /** @type {never} */ (tta);
torch.setNumThreads(Number(threads));
const predictor = infer.createPredictor(checkpoint, { tta: mode, device });
const started = performance.now();
await infer.predictGeoTiff(predictor, scene, { mask: out, overwrite: true });
const seconds = (performance.now() - started) / 1000;
predictor.dispose();
console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
