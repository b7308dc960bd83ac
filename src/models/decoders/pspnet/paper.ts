// PSPNet as the paper builds it (Zhao et al., "Pyramid Scene Parsing Network", CVPR 2017):
// a ResNet dilated to output stride 8, the pyramid pooling module on res5 (bins 1, 2, 3, 6; each
// a 1x1 conv to C/4 + BN + ReLU, upsampled bilinearly and concatenated with the feature), a
// 3x3 conv to 512 + BN + ReLU + dropout 0.1 + 1x1 conv to the classes, and the deeply supervised
// auxiliary FCN head on res4 (sec. 3.4), weighted 0.4 in the loss at training time.
//
// The module names follow the authors' PyTorch code (hszhao/semseg, model/pspnet.py):
// `ppm.features.{i}.{1,2}` (conv, BN), `cls.{0,1,4}`, `aux.{0,1,4}`; the backbone is segkit's
// ResNet under `encoder.*` (torchvision's keys) where semseg's has a deep three-conv stem.
//
// Parameter count, ResNet-101 and 21 classes: 67,949,930 with the aux head (65,584,725 without) =
//   42,500,160  ResNet-101 without fc (torchvision's published 44,549,160 minus 2,049,000)
// +  4,198,400  PPM: 4 x (2048*512 conv + 2*512 BN)
// + 18,886,165  cls: 3*3*4096*512 conv + 1,024 BN + 512*21+21 for the 1x1 to the classes
// +  2,365,205  aux: 3*3*1024*256 conv + 512 BN + 256*21+21.
// semseg's ResNet-101 has a deep stem (3x3 convs 3-64-64-128, so layer1 reads 128 channels):
// 123,776 more, 68,073,706 in all for its PSPNet-101 built in training mode.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { outOfRangeError } from '../../../validate.js';
import type { Encoder } from '../../encoders/base.js';
import type { ModelOptions, OutputFor, NoOptions, AuxFor } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { buildEncoder, readModelOptions, variantOption } from '../common/options.js';
import { SimpleSegmentationModel } from '../common/simple.js';

/** The pyramid pooling module (paper sec. 3.3, Fig. 3): [x, up(conv(pool_b(x))) for b in bins], concatenated. */
export class PyramidPoolingModule extends nn.Module {
  readonly features: nn.ModuleList;

  constructor(inChannels: number, reduction: number, bins: number[]) {
    super();
    this.features = this.registerModule(
      'features',
      new nn.ModuleList(
        bins.map(
          (b) =>
            new nn.Sequential(
              new nn.AdaptiveAvgPool2d(b),
              new nn.Conv2d(inChannels, reduction, 1, { bias: false }),
              new nn.BatchNorm2d(reduction),
              new nn.ReLU(),
            ),
        ),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    return torch.cat(
      [
        x,
        ...this.features
          .children()
          .map((f) => F.interpolate(f.forward(x) as Tensor, { size: [h, w], mode: 'bilinear', alignCorners: true })),
      ],
      1,
    );
  }
}

/** conv 3x3 (no bias) + BN + ReLU + Dropout2d + conv 1x1 to classes: the shape of `cls` and `aux`. */
function classifier(inChannels: number, channels: number, classes: number, dropout: number): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(inChannels, channels, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(channels),
    new nn.ReLU(),
    new nn.Dropout2d({ p: dropout }),
    new nn.Conv2d(channels, classes, 1),
  );
}

export interface PSPNetPaperOptions extends ModelOptions {
  /** 'resnet50' (the paper's ablations; resnet101 for its best results). */
  encoderName?: string;
  /** 8 as the paper, or 16. */
  encoderOutputStride?: 8 | 16;
  /** (1, 2, 3, 6). */
  bins?: readonly number[];
  /** 0.1 before the final classifier (and in the aux head). */
  dropout?: number;
  /** The auxiliary head on res4 (`aux.*`), true; forward returns { mask, aux } in training mode. */
  aux?: boolean;
  /** 0.4 (paper sec. 4.1); used by model.loss(). */
  auxLossWeight?: number;
  variant?: 'paper';
}

const KEYS = ['encoderOutputStride', 'bins', 'dropout', 'aux', 'auxLossWeight', 'variant'] as const;

/** Zhao et al. 2017, "Pyramid Scene Parsing Network" (CVPR): dilated ResNet + pyramid pooling + aux loss on res4. */
export class PSPNetPaper<const O extends PSPNetPaperOptions = NoOptions> extends SimpleSegmentationModel<
  OutputFor<O>,
  AuxFor<O & { variant: 'paper' }>
> {
  readonly encoder: Encoder;
  readonly decoder: PyramidPoolingModule;
  readonly cls: nn.Sequential;
  readonly aux: nn.Sequential | null;

  constructor(options?: O) {
    super();
    variantOption('PSPNetPaper', 'variant', options?.variant, ['paper'] as const, 'paper', "for this class; PSPNet builds smp's");
    // The pyramid sits on res5, so all five stages are built.
    const { o, c } = readModelOptions('PSPNetPaper', options, KEYS, { encoderName: 'resnet50', minDepth: 5 });
    const outputStride = o.choice('encoderOutputStride', [8, 16] as const, 8);
    const bins = o.intList('bins', [1, 2, 3, 6]);
    const dropout = o.probability('dropout', 0.1);
    const aux = o.bool('aux', true);
    this.auxLossWeight = o.number('auxLossWeight', 0.4, { min: 0 });
    // semseg upsamples with align_corners=True, as Caffe's Interp layer of the original release.
    this.alignCorners = true;
    this.setActivation(c.activation);
    [this.encoder, this.decoder, this.cls, this.aux] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', buildEncoder(c, outputStride));
      const c5 = encoder.outChannels[5]!;
      if (c5 % bins.length !== 0) throw outOfRangeError(o.where, 'bins', `a list whose length divides the encoder's ${c5} channels`, bins);
      const ppm = this.registerModule('ppm', new PyramidPoolingModule(c5, c5 / bins.length, bins));
      const cls = this.registerModule('cls', classifier(c5 * 2, 512, c.classes, dropout));
      // The auxiliary head reads res4 (1024 channels for ResNet-50/101: 256 for the FCN-style 3x3).
      const c4 = encoder.outChannels[4]!;
      const auxHead = aux ? this.registerModule('aux', classifier(c4, Math.floor(c4 / 4), c.classes, dropout)) : null;
      this.addClassificationHead(c.auxParams, c5);
      return [encoder, ppm, cls, auxHead] as const;
    });
  }

  get segmentationHead(): nn.Module {
    return this.cls;
  }

  protected logits(features: Tensor[]): Tensor {
    return nn.chainLink(this.decoder.forward(features[5]!), (t: Tensor) => this.cls.forward(t), []) as Tensor;
  }

  protected override auxLogits(features: Tensor[]): Tensor | null {
    return this.aux ? (this.aux.forward(features[4]!) as Tensor) : null;
  }

  protected override get returnsAux(): boolean {
    return this.training && this.aux !== null;
  }
}
