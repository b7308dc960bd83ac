// What every data source returns and what the loader, the augmentations and the trainer take.
import type { Tensor } from '../torch/index.js';

/** Pixels a loss and a metric skip (nodata, unlabelled): the value smp and PyTorch use by default. */
export const DEFAULT_IGNORE_INDEX = 255;

/** A pixel window of a raster: columns [x, x + width), rows [y, y + height). */
export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where a sample came from; georeferenced sources add the window, its transform and CRS. */
export interface SampleMeta {
  /** The sample's name: the file stem, or `<raster stem>@<x>,<y>` for a window. */
  name: string;
  /** The image file the pixels came from. */
  path: string;
  /** The label file (mask image, CSV, GeoJSON), when there is one. */
  labelPath?: string;
  /** The window of `path` the sample covers (georeferenced sources). */
  window?: Window;
  /** GDAL-order affine transform of the sample's pixel grid: x = t0 + col t1 + row t2, y = t3 + col t4 + row t5. */
  transform?: readonly [number, number, number, number, number, number];
  /** The CRS of `transform`, as 'EPSG:<code>' (or a proj4 string). */
  crs?: string;
  /** Slippy-map tile of a `tiles` source. */
  tile?: { x: number; y: number; z: number };
  /** A grouping key for grouped splits (region folder, spatial block). */
  group?: string;
}

/**
 * One sample. `image` is float32 [C, H, W] scaled to [0, 1] (see the source's `scale`); `mask` is
 * int64 [H, W] of class indices with ignored pixels set to the dataset's `ignoreIndex`, or float32
 * [K, H, W] for multilabel sources. The caller owns both tensors.
 */
export interface Sample {
  image: Tensor;
  mask: Tensor;
  meta: SampleMeta;
}

/** A batch: image float32 [N, C, H, W], mask int64 [N, H, W] or float32 [N, K, H, W]. */
export interface Batch {
  image: Tensor;
  mask: Tensor;
  meta: SampleMeta[];
}

/** A map-style dataset: a length and an async getter, as torch.utils.data.Dataset. */
export interface Dataset {
  readonly length: number;
  /** Decodes sample `index` (0 <= index < length). */
  get(index: number): Promise<Sample>;
  /** Metadata of sample `index` without decoding it (for splits and samplers). */
  metaAt?(index: number): SampleMeta;
  /** Number of classes the masks index (2 for building/background). */
  readonly classes?: number;
  /** Channels of every image. */
  readonly channels?: number;
  readonly ignoreIndex?: number;
}
