// The adversarial network of Luc et al. 2016: it scores an (image, label map) pair as true
// (the dataset's labels) or predicted (the segmenter's). Built from a design of designs.ts; its
// score is the mean of a one-channel score map, one logit per image.
import { torch, nn, F, type Tensor } from '../../torch/index.js';
import { invalidParameterError } from '../../validate.js';
import { encodeInput, mapChannels, type Encoding } from './encoding.js';
import type { DiscriminatorDesign, LayerSpec } from './designs.js';

export interface DiscriminatorOptions {
  /** The design's name (createDiscriminator) or the design itself. */
  design: string;
  encoding: Encoding;
  /** The segmenter's output channels (a binary model's 1 gives two-channel maps). */
  classes: number;
  inChannels: number;
}

/** Convolutions (each but a trunk's last followed by ReLU) and 2x2 max pools, as an nn.Sequential. */
function stack(layers: LayerSpec[], inChannels: number, scores: boolean): [nn.Sequential, number] {
  const seq = new nn.Sequential();
  let channels = inChannels;
  layers.forEach((l, i) => {
    if (l === 'pool') {
      seq.push(new nn.MaxPool2d(2, { stride: 2 }));
      return;
    }
    seq.push(new nn.Conv2d(channels, l.out, l.kernel, { padding: (l.kernel - 1) / 2 }));
    channels = l.out;
    if (!(scores && i === layers.length - 1)) seq.push(new nn.ReLU({ inplace: true }));
  });
  return [seq, channels];
}

/** Luc et al., "Semantic Segmentation using Adversarial Networks", NIPS Workshop on Adversarial Training 2016. */
export class Discriminator extends nn.Module {
  readonly encoding: Encoding;
  readonly classes: number;
  readonly inChannels: number;
  readonly design: string;
  readonly image: nn.Sequential | null;
  readonly labels: nn.Sequential | null;
  readonly trunk: nn.Sequential;

  constructor(name: string, design: DiscriminatorDesign, options: Omit<DiscriminatorOptions, 'design'>) {
    super();
    this.design = name;
    this.encoding = options.encoding;
    this.classes = options.classes;
    this.inChannels = options.inChannels;
    const C = mapChannels(options.classes);
    const B = options.inChannels;
    const product = options.encoding === 'product';
    const encoded = product ? B * C : B + C;
    let joined = encoded;
    this.image = null;
    this.labels = null;
    if (design.labelBranch) {
      // 'product' mixes image and labels already: it takes the label branch alone.
      if (design.imageBranch && !product) {
        const [image, ic] = stack(design.imageBranch, B, false);
        this.image = this.registerModule('image', image);
        joined = ic;
      } else joined = 0;
      const [labels, lc] = stack(design.labelBranch, product ? B * C : C, false);
      this.labels = this.registerModule('labels', labels);
      joined += lc;
    }
    const [trunk] = stack(design.trunk, joined, true);
    this.trunk = this.registerModule('trunk', trunk);
  }

  /** One logit per image, [N]: positive means "a true label map". `map` holds class probabilities [N, C, H, W]. */
  forward(image: Tensor, map: Tensor): Tensor {
    const C = mapChannels(this.classes);
    if (map.ndim !== 4 || map.shape[1] !== C)
      throw invalidParameterError('Discriminator.forward', 'map', `class probabilities [N, ${C}, H, W]`, map.shape);
    if (image.ndim !== 4 || image.shape[1] !== this.inChannels || image.shape[0] !== map.shape[0])
      throw invalidParameterError('Discriminator.forward', 'image', `[${map.shape[0]}, ${this.inChannels}, H, W]`, image.shape);
    const [h, w] = [map.shape[2]!, map.shape[3]!];
    // A segmenter whose maps are coarser than its input: the image is brought to the maps' size.
    const x = image.shape[2] === h && image.shape[3] === w ? image : F.interpolate(image, { size: [h, w], mode: 'bilinear' });
    let features: Tensor;
    if (this.labels === null) features = encodeInput(this.encoding, x, map);
    else if (this.encoding === 'product') features = this.labels.forward(encodeInput('product', x, map));
    else if (this.image === null) features = this.labels.forward(map);
    else features = torch.cat([this.image.forward(x.float()), this.labels.forward(map)], 1);
    return this.trunk.forward(features).mean({ dim: [1, 2, 3] });
  }
}
