// `segkit data stats`: per-band statistics of a whole dataset, streamed, for normalisation.
import { BandStats, type BandStatsResult, stretchFromStats } from './band-stats.js';
import type { DecodedImage } from './decode.js';
import { type OpenOptions, open } from './open.js';
import type { Scaling } from './normalize.js';

/** A dataset whose raw pixels can be read (every built-in source). */
export interface RawImageSource {
  readonly length: number;
  readImage(index: number): Promise<DecodedImage>;
}

/** BandStats' result over a whole dataset, with the stretch it suggests. */
export interface DatasetStats extends Omit<BandStatsResult, 'percentile'> {
  samples: number;
  /** The scaling that maps the 2nd..98th percentiles to [0, 1] (for 16-bit and float imagery). */
  stretch: Scaling;
}

/** Statistics over every sample's raw pixels (pixels without data left out). */
export async function statsOf(
  ds: RawImageSource,
  options: { onProgress?: (done: number, total: number) => void; concurrency?: number } = {},
): Promise<DatasetStats> {
  const stats = new BandStats();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ds.length) {
      const i = next++;
      stats.update(await ds.readImage(i));
      options.onProgress?.(++done, ds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  const r = stats.result();
  if (r.count === 0) throw new Error(`data stats: no valid pixels in ${ds.length} sample(s)`);
  return {
    samples: ds.length,
    bands: r.bands,
    count: r.count,
    mean: r.mean,
    std: r.std,
    min: r.min,
    max: r.max,
    p2: r.p2,
    p98: r.p98,
    stretch: stretchFromStats(r),
  };
}

/** Opens `path` and computes its statistics. */
export async function datasetStats(
  path: string,
  options: OpenOptions & { onProgress?: (done: number, total: number) => void } = {},
): Promise<DatasetStats> {
  const { onProgress, ...rest } = options as OpenOptions & { onProgress?: (done: number, total: number) => void };
  // Raw pixels are read, so the source need not compute its own scaling first.
  const ds = await open(path, { scale: { kind: 'divide', by: 1 }, ...rest } as OpenOptions);
  try {
    return await statsOf(ds, { onProgress });
  } finally {
    if ('close' in ds) await ds.close();
  }
}
