// DeepLab v1's VGG16 (the DeepLab-LargeFOV Caffe net): every pool 3x3 with padding 1, pool4 and
// pool5 with stride 1 instead of 2, and conv5_1..conv5_3 dilated by 2 ("atrous", the paper's
// hole algorithm) so they see what they saw before pool4 lost its stride. Output stride 8.
import { nn } from '../../../torch/index.js';
import type { VGGEncoder } from '../../encoders/vgg.js';

/** Turns a VGG16 encoder into DeepLab v1's in place; the parameters (and their keys) are unchanged. */
export function makeAtrousVgg(encoder: VGGEncoder): void {
  const features = encoder.features;
  const layers = features.namedChildren();
  let pool = 0;
  for (const [name, m] of layers) {
    if (m instanceof nn.MaxPool2d) {
      features.registerModule(name, new nn.MaxPool2d(3, { stride: pool < 3 ? 2 : 1, padding: 1 }));
      pool++;
    } else if (pool === 4 && m instanceof nn.Conv2d) {
      m.dilation = [2, 2];
      m.padding = [2, 2];
    }
  }
  if (pool !== 5) throw new Error(`makeAtrousVgg: expected VGG16's five pools, found ${pool}`);
  encoder.outputStride = 8;
}
