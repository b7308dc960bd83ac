// DeepLabV3 in torchvision's layout (torchvision.models.segmentation.deeplabv3_resnet50/101):
// `createModel('deeplabv3', { layout: 'torchvision' })`. torchvision-dilated ResNet-50
// (`backbone.*`), DeepLabHead (`classifier.0` ASPP, `classifier.1-3` 3x3 conv + BN + ReLU,
// `classifier.4` the 1x1 to classes), optional FCNHead on layer3 (`aux_classifier.*`), logits
// resized bilinearly to the input. Its checkpoints (deeplabv3_resnet50_coco-cd0a2569.pth) load by name.
import { nn } from '../../../torch/index.js';
import type { NoOptions } from '../../registry.js';
import { variantOption } from '../common/options.js';
import { TorchvisionSegmentationModel, type TorchvisionModelOptions } from '../fcn-resnet/model.js';
import { ASPP } from './aspp.js';

/** torchvision's DeepLabHead: ASPP, 3x3 conv + BatchNorm + ReLU, 1x1 conv to classes. */
export class DeepLabHead extends nn.Sequential {
  constructor(inChannels: number, classes: number, options: { atrousRates?: number[]; channels?: number } = {}) {
    const c = options.channels ?? 256;
    super(
      new ASPP(inChannels, { atrousRates: options.atrousRates ?? [12, 24, 36], outChannels: c, dropout: 0.5 }),
      new nn.Conv2d(c, c, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(c),
      new nn.ReLU(),
      new nn.Conv2d(c, classes, 1),
    );
  }
}

export interface TorchvisionDeepLabV3Options extends TorchvisionModelOptions {
  /** Any number of rates (torchvision numbers the branches in order); default (12, 24, 36). */
  decoderAtrousRates?: readonly number[];
  /** 256 as torchvision. */
  decoderChannels?: number;
}

const NAME = 'TorchvisionDeepLabV3';

/** Chen et al. 2017 (arXiv:1706.05587), DeepLabV3 as torchvision builds it (deeplabv3_resnet50 keys). */
export class TorchvisionDeepLabV3<const O extends TorchvisionDeepLabV3Options = NoOptions> extends TorchvisionSegmentationModel<O> {
  declare readonly decoder: DeepLabHead;

  constructor(options?: O) {
    // createModel('deeplabv3', { layout: 'torchvision' }) passes its layout switch along.
    const { layout, ...rest } = (options ?? {}) as TorchvisionDeepLabV3Options & { layout?: unknown };
    variantOption(NAME, 'layout', layout, ['torchvision'] as const, 'torchvision', "for this class; DeepLabV3 builds smp's");
    super(
      NAME,
      rest as O,
      ['decoderAtrousRates', 'decoderChannels'],
      (o, inChannels, classes) =>
        new DeepLabHead(inChannels, classes, {
          atrousRates: o.intList('decoderAtrousRates', [12, 24, 36]),
          channels: o.int('decoderChannels', 256),
        }),
    );
  }
}
