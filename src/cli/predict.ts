// `segkit predict` and `segkit submit`: thin layers over createPredictor, predictFiles and
// writeSubmission. Without --model it uses
// the building model segkit ships (models/buildings/model.safetensors).
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';

export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/buildings/model.safetensors', import.meta.url));

interface PredictFlags {
  model?: string[];
  out: string;
  format: string;
  tta: string;
  threshold?: number;
  window: number;
  overlap?: number;
  batchSize: number;
  device?: string;
  precision?: string;
  overwrite?: boolean;
  crf?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const RASTER_FORMATS = ['geotiff', 'probabilities', 'geojson'];

/** A GeoTIFF input: predicted strip by strip into GeoTIFFs with its georeference. */
async function predictRasterCommand(
  input: string,
  flags: PredictFlags,
  predictor: import('../infer/predictor.js').Predictor,
  formats: string[],
) {
  const { predictGeoTiff } = await import('../infer/raster.js');
  const { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } = await import('node:fs');
  const { basename, extname, join } = await import('node:path');
  const bad = formats.filter((f) => !RASTER_FORMATS.includes(f));
  if (bad.length > 0) throw new Error(`--format: a GeoTIFF input writes ${RASTER_FORMATS.join(' and ')}, got "${bad.join(',')}"`);
  mkdirSync(flags.out, { recursive: true });
  const stem = basename(input, extname(input));
  const outputs = {
    ...(formats.includes('geotiff') ? { mask: join(flags.out, `${stem}.mask.tif`) } : {}),
    ...(formats.includes('probabilities') ? { probabilities: join(flags.out, `${stem}.prob.tif`) } : {}),
  };
  const geojson = formats.includes('geojson') ? join(flags.out, `${stem}.geojson`) : undefined;
  if (geojson && existsSync(geojson) && flags.overwrite !== true) throw new Error(`${geojson} exists: pass --overwrite to replace it`);
  // Polygons are traced from the mask GeoTIFF strip by strip; without --format geotiff it is a temporary file.
  const maskFile = outputs.mask ?? (geojson ? join(flags.out, `.${stem}.mask-${process.pid}.tif`) : undefined);
  const started = performance.now();
  try {
    await predictRasterAndPolygons();
  } finally {
    if (!outputs.mask && maskFile) rmSync(maskFile, { force: true });
  }
  async function predictRasterAndPolygons() {
    await predictGeoTiff(predictor, input, {
      ...outputs,
      ...(maskFile ? { mask: maskFile } : {}),
      overwrite: flags.overwrite === true,
      ...(flags.crf ? { crf: true } : {}),
      onProgress: (done, height) => {
        if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'rows', done, height })}\n`);
        else if (!flags.quiet) process.stderr.write(`rows ${done}/${height}\n`);
      },
    });
    if (geojson && maskFile) {
      const { polygonizeRaster } = await import('../geo/polygonize-raster.js');
      const { polygonsToGeoJson } = await import('../geo/geojson-write.js');
      const { polygons, transform, crs } = await polygonizeRaster(maskFile, { simplify: 1, minArea: 4 });
      // Lon/lat (RFC 7946) when the raster has a CRS; its pixel grid (or transform) otherwise.
      const collection = polygonsToGeoJson(polygons, {
        ...(transform ? { transform } : {}),
        ...(crs ? { crs } : { lonLat: false }),
      });
      const tmp = `${geojson}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(collection)}\n`);
      renameSync(tmp, geojson);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const files = [...Object.values(outputs), ...(geojson ? [geojson] : [])];
  if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'end', files, seconds })}\n`);
  else process.stdout.write(`wrote ${files.join(', ')} in ${seconds.toFixed(1)} s\n`);
}

function integer(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got "${v}"`);
    return n;
  };
}

async function predictCommand(input: string, flags: PredictFlags): Promise<number> {
  const { createPredictor } = await import('../infer/predictor.js');
  const { predictFiles, FILE_FORMATS } = await import('../infer/predict-files.js');
  const formats = flags.format.split(',').map((f) => f.trim());
  const raster = /\.tiff?$/i.test(input);
  const unknown = formats.filter((f) => !(FILE_FORMATS as readonly string[]).includes(f) && !(raster && RASTER_FORMATS.includes(f)));
  if (unknown.length > 0)
    throw new Error(`--format: expected a comma-separated list of ${FILE_FORMATS.join(', ')}, got "${unknown.join(',')}"`);
  const models = flags.model && flags.model.length > 0 ? flags.model : [DEFAULT_MODEL];
  const predictor = createPredictor(models, {
    tta: flags.tta as never,
    window: flags.window,
    ...(flags.overlap === undefined ? {} : { overlap: flags.overlap }),
    batchSize: flags.batchSize,
    ...(flags.device === undefined ? {} : { device: flags.device }),
    ...(flags.threshold === undefined ? {} : { threshold: flags.threshold }),
    precision: flags.precision as never,
  });
  try {
    if (raster) {
      await predictRasterCommand(input, flags, predictor, formats);
      return 0;
    }
    const started = performance.now();
    const written = await predictFiles(predictor, input, {
      ...(flags.crf ? { crf: true } : {}),
      out: flags.out,
      formats: formats as never,
      overwrite: flags.overwrite === true,
      onImage: (i, n, outputs) => {
        if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'image', index: i, count: n, outputs })}\n`);
        else if (!flags.quiet) process.stderr.write(`${i + 1}/${n} ${outputs.join(', ')}\n`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'end', files: written.length, seconds })}\n`);
    else
      process.stdout.write(
        `wrote ${written.length} file(s) to ${flags.out} in ${seconds.toFixed(1)} s (${models.length} model(s), TTA ${flags.tta})\n`,
      );
    return 0;
  } finally {
    predictor.dispose();
  }
}

/** `--precision float32|bfloat16`, shared by predict, submit and eval. */
export function precisionOption(): Option {
  return new Option('--precision <p>', 'float32, or bfloat16 (autocast: faster where the CPU has bfloat16 instructions)')
    .choices(['float32', 'bfloat16'])
    .default('float32');
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict building masks for an image or a folder of images')
    .argument('<input>', 'an image file or a folder of images')
    .option(
      '--model <checkpoint>',
      'a checkpoint written by segkit train (repeat for an ensemble; default: the shipped building model)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .requiredOption('--out <dir>', 'the output folder')
    .option(
      '--format <list>',
      'comma-separated: png (the mask), probabilities (x 255 PNG; float32 GeoTIFF for a .tif input), geojson (building polygons, lon/lat for tiles named OAM-x-y-z and for GeoTIFFs with a CRS); a .tif input: geotiff (the mask), probabilities, geojson',
      'png',
    )
    .option(
      '--crf',
      "refine the probabilities with DeepLab's dense CRF before thresholding (rasters: in 512-px tiles with 128 px of context)",
    )
    .option('--tta <mode>', 'test-time augmentation: none, flips or d4', 'none')
    .option('--threshold <t>', "foreground probability (default: the checkpoint's)", (v: string) => {
      const n = Number(v);
      if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number from 0 to 1, got "${v}"`);
      return n;
    })
    .option('--window <n>', 'window side in pixels, a multiple of 32', integer(32), 512)
    .option('--overlap <n>', 'pixels shared by neighbouring windows (default: window / 4)', integer(0))
    .option('--batch-size <n>', 'windows per forward pass', integer(1), 4)
    .option('--device <device>', 'auto (the GPU when there is one), cpu, cuda or cuda:<index>')
    .addOption(precisionOption())
    .option('--overwrite', 'replace outputs that exist')
    .option('--quiet', 'print only the final line')
    .option('--json', 'print one JSON line per image and one at the end')
    .action(async (input: string, flags: PredictFlags) => {
      try {
        process.exitCode = await predictCommand(input, flags);
      } catch (e) {
        process.stderr.write(`segkit: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

interface SubmitFlags {
  model?: string[];
  images: string;
  sample: string;
  out: string;
  tta: string;
  threshold?: number;
  window: number;
  device?: string;
  precision?: string;
  overwrite?: boolean;
  quiet?: boolean;
}

export function registerSubmitCommand(program: Command): void {
  program
    .command('submit')
    .description("write a Tianchi-style submission: name and RLE mask per image, in the sample file's order")
    .option(
      '--model <checkpoint>',
      'a checkpoint (repeat for an ensemble; default: the shipped building model)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .requiredOption('--images <dir>', 'the folder of test images')
    .requiredOption('--sample <csv>', 'the sample submission (test_a_samplesubmit.csv)')
    .requiredOption('--out <csv>', 'the submission to write')
    .option('--tta <mode>', 'test-time augmentation: none, flips or d4', 'none')
    .option('--threshold <t>', "foreground probability (default: the checkpoint's)", Number)
    .option('--window <n>', 'window side in pixels, a multiple of 32', integer(32), 512)
    .option('--device <device>', 'auto (the GPU when there is one), cpu, cuda or cuda:<index>')
    .addOption(precisionOption())
    .option('--overwrite', 'replace the submission if it exists')
    .option('--quiet', 'print only the final line')
    .action(async (flags: SubmitFlags) => {
      try {
        const { createPredictor } = await import('../infer/predictor.js');
        const { writeSubmission } = await import('../infer/submit.js');
        const models = flags.model && flags.model.length > 0 ? flags.model : [DEFAULT_MODEL];
        const predictor = createPredictor(models, {
          tta: flags.tta as never,
          window: flags.window,
          ...(flags.device === undefined ? {} : { device: flags.device }),
          ...(flags.threshold === undefined ? {} : { threshold: flags.threshold }),
          precision: flags.precision as never,
        });
        try {
          const n = await writeSubmission(predictor, {
            images: flags.images,
            sample: flags.sample,
            out: flags.out,
            overwrite: flags.overwrite === true,
            onImage: (i, count, name) => {
              if (!flags.quiet) process.stderr.write(`${i + 1}/${count} ${name}\n`);
            },
          });
          process.stdout.write(`wrote ${flags.out}: ${n} line(s)\n`);
        } finally {
          predictor.dispose();
        }
      } catch (e) {
        process.stderr.write(`segkit: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
