// Prediction over a raster of any size: strips of window rows are read, predicted window by
// window with the blending of Predictor.probabilities, and the rows no later window touches are
// written out, so memory is bounded by the raster's width times the window, never by its area.
// The result equals Predictor.probabilities on the whole raster (same windows, same weights).
// With `crf`, the finished rows go through the tiled dense CRF of raster-crf.ts first.
import { createGeoTiff, type GeoTiffWriter } from '../geo/geotiff-writer.js';
import { openRaster, type Raster } from '../geo/geotiff.js';
import { checkScaling, defaultScaling, type Scaling } from '../data/normalize.js';
import { torch, type Tensor } from '../torch/index.js';
import { invalidParameterError, readOptions } from '../validate.js';
import type { Predictor } from './predictor.js';
import { maskOf, readRasterCrf, rgbBytes, TiledCrf, type RasterCrfOptions } from './raster-crf.js';
import { windowStarts } from './windows.js';

const STRIDE = 32;

/** Where rows go: GeoTiffWriter.writeWindow's shape, so a GeoTIFF or anything in memory can take them. */
export interface RowSink {
  writeWindow(window: { x: number; y: number; width: number; height: number }, data: Uint8Array | Float32Array): Promise<void>;
}

export interface PredictRasterOptions {
  /** The mask: 0 / 1 (binary) or class indices, uint8. */
  mask?: RowSink;
  /** The probabilities, float32 [K, rows, width] per write (K = 1 for binary models). */
  probabilities?: RowSink;
  /** How raw values become [0, 1] (default: the checkpoint's, else 1/255 for 8-bit rasters). */
  scaling?: Scaling;
  /**
   * Refine the probabilities with DeepLab v1's dense CRF before thresholding and writing: true
   * for DEEPLAB_CRF's parameters in tiles of 512 px with a 128 px margin, or RasterCrfOptions.
   * Needs an RGB (3-band) raster. Rows are then written a band of tiles later than without it;
   * the memory this adds is bounded by the raster's width (see TiledCrf), not by its area.
   */
  crf?: boolean | RasterCrfOptions;
  /** Called after each strip with the rows done and the raster's height. */
  onProgress?: (rowsDone: number, height: number) => void;
}

/** Raw raster values [bands, h, w] to floats in [0, 1] by a scaling. */
function scaled(raw: ArrayLike<number>, bands: number, h: number, w: number, s: Scaling): Float32Array {
  const out = new Float32Array(bands * h * w);
  const n = h * w;
  for (let b = 0; b < bands; b++) {
    const [lo, span] = s.kind === 'divide' ? [0, s.by] : [s.low[b % s.low.length]!, s.high[b % s.high.length]! - s.low[b % s.low.length]!];
    for (let i = 0; i < n; i++) out[b * n + i] = Math.min(1, Math.max(0, (raw[b * n + i]! - lo) / span));
  }
  return out;
}

/** Predicts an opened raster strip by strip into the sinks; returns the number of rows written. */
export async function predictRaster(predictor: Predictor, raster: Raster, options: PredictRasterOptions): Promise<number> {
  const where = 'predictRaster';
  const o = readOptions(where, options, ['mask', 'probabilities', 'scaling', 'crf', 'onProgress']);
  const mask = o.get('mask') as RowSink | undefined;
  const probs = o.get('probabilities') as RowSink | undefined;
  if (!mask && !probs) throw invalidParameterError(where, 'options', 'a mask or probabilities sink (or both)', options);
  const { width, height, bands, dtype } = raster.info;
  const channels = (predictor.models[0]!.predict.modelOptions as { inChannels?: number }).inChannels ?? 3;
  if (bands !== channels)
    throw invalidParameterError(
      where,
      'raster',
      `a raster of ${channels} band(s), as the model was trained on`,
      `${bands} band(s) in ${raster.info.path}`,
    );
  const given = (o.get('scaling') ?? predictor.models[0]!.predict.scaling) as Scaling | undefined;
  const scaling = given
    ? checkScaling(where, given, bands)
    : dtype === 'uint8'
      ? defaultScaling(8)
      : (() => {
          throw invalidParameterError(where, 'scaling', `a scaling for this ${dtype} raster (the checkpoint has none)`, undefined);
        })();
  const onProgress = o.get('onProgress') as PredictRasterOptions['onProgress'];
  const crfOptions = readRasterCrf(where, o.get('crf'));
  if (crfOptions && bands !== 3)
    throw invalidParameterError(where, 'crf', `false for a raster of ${bands} band(s) (the CRF's colour kernel needs RGB)`, o.get('crf'));
  let tiled: TiledCrf | null = null;
  // The geometry of Predictor.probabilities on the whole raster: padded to whole strides.
  const ph = Math.ceil(height / STRIDE) * STRIDE;
  const pw = Math.ceil(width / STRIDE) * STRIDE;
  const wh = Math.min(predictor.window, ph);
  const ww = Math.min(predictor.window, pw);
  const ys = windowStarts(ph, wh, predictor.overlap);
  const xs = windowStarts(pw, ww, predictor.overlap);
  let sum: Tensor | null = null; // [K, wh, pw]: the rows from ys[k] on
  let total: Tensor | null = null;
  let written = 0;
  try {
    for (const [k, y] of ys.entries()) {
      const rows = Math.min(wh, height - y);
      const raw = await raster.readWindow({ x: 0, y, width, height: rows });
      const floats = scaled(raw as ArrayLike<number>, bands, rows, width, scaling);
      const strip = torch.tidy(() => {
        const x = predictor.prepare(torch.tensor(floats, { shape: [bands, rows, width] }), wh - rows, pw - width);
        return predictor.windowSums(
          x,
          xs.map((x0) => ({ x: x0, y: 0, width: ww, height: wh })),
        );
      });
      if (sum === null || total === null) [sum, total] = [strip.sum, strip.total];
      else {
        sum.add_(strip.sum);
        total.add_(strip.total);
        torch.dispose([strip.sum, strip.total]);
      }
      // Rows before the next strip's first row are final.
      const next = ys[k + 1];
      const done = Math.min(next === undefined ? wh : next - y, height - y);
      // The blended probabilities of the finished rows, [K, done, width] on the CPU.
      const finished = () =>
        sum!
          .narrow(1, 0, done)
          .div(total!.narrow(1, 0, done))
          .narrow(2, 0, width)
          .to({ device: 'cpu' })
          .contiguous();
      if (done > 0 && crfOptions) {
        const q = torch.tidy(() => finished().toArray() as Float32Array);
        const planes = q.length / (done * width);
        tiled ??= new TiledCrf(width, height, planes, crfOptions);
        for (const band of tiled.push(rgbBytes(floats, rows, width, done), q)) {
          const window = { x: 0, y: band.y, width, height: band.rows };
          if (mask) await mask.writeWindow(window, maskOf(band.probabilities, planes, band.rows * width, predictor.threshold));
          if (probs) await probs.writeWindow(window, band.probabilities);
          written += band.rows;
        }
      } else if (done > 0) {
        const { m, p } = torch.tidy(() => {
          const q = finished();
          const binary = q.shape[0] === 1;
          return {
            m: mask
              ? ((binary ? q.squeeze(0).ge(predictor.threshold) : q.argmax({ dim: 0 }))
                  .to({ dtype: 'uint8' })
                  .contiguous()
                  .toArray() as Uint8Array)
              : null,
            p: probs ? (q.toArray() as Float32Array) : null,
          };
        });
        if (m) await mask!.writeWindow({ x: 0, y, width, height: done }, m);
        if (p) await probs!.writeWindow({ x: 0, y, width, height: done }, p);
        written += done;
      }
      if (next !== undefined) {
        // Shift the accumulators up to the next strip's first row, zeros below.
        const shift = next - y;
        const [s2, t2] = torch.tidy(() =>
          [sum!, total!].map((a) =>
            torch.cat([a.narrow(1, shift, wh - shift), torch.zeros([a.shape[0]!, shift, pw], { device: a.device })], 1),
          ),
        ) as [Tensor, Tensor];
        torch.dispose([sum, total]);
        [sum, total] = [s2, t2];
      }
      onProgress?.(written, height);
    }
  } finally {
    torch.dispose([sum, total].filter((t): t is Tensor => t !== null));
  }
  return written;
}

export interface PredictGeoTiffOptions {
  /** The mask GeoTIFF to write (uint8, deflate). */
  mask?: string;
  /** The probabilities GeoTIFF to write (float32, deflate, predictor 3). */
  probabilities?: string;
  overwrite?: boolean;
  scaling?: Scaling;
  /** The dense CRF before thresholding, as PredictRasterOptions.crf: true, or RasterCrfOptions. */
  crf?: boolean | RasterCrfOptions;
  onProgress?: (rowsDone: number, height: number) => void;
}

/** A GeoTIFF in, mask and/or probability GeoTIFFs out with its size, CRS and transform; nothing half-written on failure. */
export async function predictGeoTiff(predictor: Predictor, input: string, options: PredictGeoTiffOptions): Promise<void> {
  const where = 'predictGeoTiff';
  const o = readOptions(where, options, ['mask', 'probabilities', 'overwrite', 'scaling', 'crf', 'onProgress']);
  // Read here as well, so that a bad option is refused before any output file exists.
  readRasterCrf(where, o.get('crf'));
  const raster = await openRaster(input);
  const writers: GeoTiffWriter[] = [];
  try {
    const { width, height, crs, transform, crsUnsupported } = raster.info;
    // Outputs without the input's CRS would be silently misplaced in a GIS: refuse before any work.
    if (crsUnsupported)
      throw new Error(
        `${where}: ${input} has ${crsUnsupported}, which segkit cannot write into the outputs; reproject it to an EPSG CRS first (e.g. gdalwarp -t_srs EPSG:<code> in.tif out.tif)`,
      );
    const geo = { ...(crs ? { crs } : {}), ...(transform ? { transform } : {}) };
    const overwrite = o.bool('overwrite', false);
    const classes = predictor.classes.length;
    const maskPath = o.has('mask') ? o.string('mask') : undefined;
    const probPath = o.has('probabilities') ? o.string('probabilities') : undefined;
    const maskWriter = maskPath ? await createGeoTiff(maskPath, { width, height, dtype: 'uint8', ...geo, overwrite }) : undefined;
    if (maskWriter) writers.push(maskWriter);
    const probWriter = probPath
      ? await createGeoTiff(probPath, { width, height, bands: classes === 2 ? 1 : classes, dtype: 'float32', ...geo, overwrite })
      : undefined;
    if (probWriter) writers.push(probWriter);
    await predictRaster(predictor, raster, {
      ...(maskWriter ? { mask: maskWriter } : {}),
      ...(probWriter ? { probabilities: probWriter } : {}),
      ...(o.has('scaling') ? { scaling: o.get('scaling') as Scaling } : {}),
      ...(o.has('crf') ? { crf: o.get('crf') as PredictGeoTiffOptions['crf'] } : {}),
      ...(o.has('onProgress') ? { onProgress: o.get('onProgress') as PredictGeoTiffOptions['onProgress'] } : {}),
    });
    for (const w of writers) await w.close();
  } catch (e) {
    for (const w of writers) await w.abort().catch(() => undefined);
    throw e;
  } finally {
    await raster.close();
  }
}
