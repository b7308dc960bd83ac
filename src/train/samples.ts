// samples.json: the validation images the report shows, the best and the worst by Dice, each
// rendered with its truth and prediction overlaid.
import { writeAtomic } from '../torch/serialization/index.js';
import type { ScoredSample } from './evaluate.js';

export interface SampleItem {
  name: string;
  dice: number;
  iou: number;
  kind: 'best' | 'worst';
  image: string;
}

export async function writeSamples(
  path: string,
  epoch: number,
  best: ScoredSample[],
  worst: ScoredSample[],
  ignoreIndex: number,
): Promise<void> {
  // sharp loads only when a run writes its samples.
  const { overlayDataUri } = await import('./overlay.js');
  const items: SampleItem[] = [];
  for (const [kind, list] of [
    ['best', best],
    ['worst', worst],
  ] as const) {
    for (const s of list)
      items.push({ name: s.name, dice: s.dice, iou: s.iou, kind, image: await overlayDataUri(s.image, s.truth, s.pred, { ignoreIndex }) });
  }
  writeAtomic(path, [Buffer.from(`${JSON.stringify({ epoch, items })}\n`)], 'Trainer');
}
