// What the four built-in sources share beyond the Dataset interface: their settings, warnings,
// scaling, and raw pixel access for statistics and conversion.
import type { Dataset, Sample, SampleMeta } from '../dataset.js';
import type { DecodedImage } from '../decode.js';
import type { Scaling } from '../normalize.js';
import type { CommonSettings } from './common.js';

export abstract class SourceDataset implements Dataset {
  abstract readonly format: string;
  /** What opening skipped or repaired (null geometries, bow-tie rings, unmatched files). */
  readonly warnings: string[] = [];
  /** How pixels become [0, 1]; JSON, so a checkpoint can record it. */
  scaling: Scaling;

  protected constructor(readonly settings: CommonSettings) {
    this.scaling = settings.scale !== 'auto' && settings.scale !== 'stats' ? settings.scale : { kind: 'divide', by: 255 };
  }

  abstract get length(): number;

  get classes(): number {
    return this.settings.classes;
  }

  get ignoreIndex(): number {
    return this.settings.ignoreIndex;
  }

  abstract metaAt(index: number): SampleMeta;
  abstract get(index: number): Promise<Sample>;
  /** Sample `index`'s pixels as decoded, before scaling. */
  abstract readImage(index: number): Promise<DecodedImage>;
}
