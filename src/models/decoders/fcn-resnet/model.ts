// torchvision's FCN on a dilated ResNet (torchvision.models.segmentation.fcn_resnet50/101):
// the backbone at output stride 8, FCNHead on layer4, an optional FCNHead on layer3 for the
// auxiliary loss, logits resized bilinearly to the input. Keys are torchvision's
// (`backbone.layer1.0.conv1.weight`, `classifier.0.weight`, `aux_classifier.4.bias`), so its
// checkpoints (fcn_resnet50_coco-1167a1af.pth) load with loadStateDict.
import { nn, type Tensor } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import type { ActivationOption, AuxParams } from '../../heads.js';
import type { ModelOptions } from '../../registry.js';
import { COMMON_KEYS } from '../common/options.js';
import { boolOption, checkKeys, choiceOption, intOption, numberOption } from '../deeplabv3/options.js';
import { createDilatedBackbone } from './backbone.js';
import { SimpleSegmentationModel } from './simple.js';

/** torchvision's FCNHead: 3x3 conv to in/4 + BatchNorm + ReLU + Dropout(0.1) + 1x1 conv to classes. */
export class FCNHead extends nn.Sequential {
  constructor(inChannels: number, classes: number) {
    const inter = Math.floor(inChannels / 4);
    super(
      new nn.Conv2d(inChannels, inter, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(inter),
      new nn.ReLU(),
      new nn.Dropout({ p: 0.1 }),
      new nn.Conv2d(inter, classes, 1),
    );
  }
}

/** Options of the models in torchvision's layout (FCN-ResNet, DeepLabV3 with layout 'torchvision'). */
export interface TorchvisionModelOptions extends ModelOptions {
  /** 'resnet50' (torchvision's fcn_resnet50 / deeplabv3_resnet50); 'resnet101' for the *_resnet101 models. */
  encoderName?: string;
  encoderWeights?: string | null;
  /** 8 (torchvision's replace_stride_with_dilation [False, True, True]) or 16 ([False, False, True]). */
  encoderOutputStride?: 8 | 16;
  inChannels?: number;
  /** 1 as every segkit model (torchvision's default is 21, Pascal VOC's). */
  classes?: number;
  activation?: ActivationOption;
  /** torchvision's aux_loss: an FCNHead on layer3 (`aux_classifier.*`); forward returns { mask, aux } in training. */
  aux?: boolean;
  /** Weight of the aux term in model.loss(); 0.5 as torchvision's reference training script. */
  auxLossWeight?: number;
  auxParams?: AuxParams | null;
}

export const TORCHVISION_KEYS = [...COMMON_KEYS, 'encoderOutputStride', 'aux', 'auxLossWeight'] as const;

/**
 * The parts every torchvision-layout model shares: `backbone`, `classifier`, `aux_classifier`.
 * Subclasses pass a factory for their classifier (checking their own options in it).
 */
export abstract class TorchvisionSegmentationModel extends SimpleSegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: nn.Module;
  readonly auxClassifier: FCNHead | null;

  protected constructor(name: string, options: TorchvisionModelOptions, allowed: readonly string[],
    buildClassifier: (inChannels: number, classes: number) => nn.Module) {
    super();
    checkKeys(name, options, allowed);
    if (options.encoderDepth !== undefined && options.encoderDepth !== 5) {
      throw new RangeError(`${name}: encoderDepth must be 5 (torchvision's backbone uses all four stages), got ${options.encoderDepth}`);
    }
    const outputStride = choiceOption(name, 'encoderOutputStride', options.encoderOutputStride, 8, [8, 16] as const);
    const aux = boolOption(name, 'aux', options.aux, false);
    const classes = intOption(name, 'classes', options.classes, 1);
    this.auxLossWeight = numberOption(name, 'auxLossWeight', options.auxLossWeight, 0.5);
    this.setActivation(options.activation);
    this.encoder = this.registerModule('backbone', createDilatedBackbone(options.encoderName ?? 'resnet50', {
      inChannels: options.inChannels, weights: options.encoderWeights ?? null, outputStride,
    }));
    try {
      // torchvision creates the aux head first, then the classifier, then registers them in the other order.
      this.auxClassifier = aux ? new FCNHead(this.encoder.outChannels[4]!, classes) : null;
      let classifier: nn.Module;
      try {
        classifier = buildClassifier(this.encoder.outChannels[5]!, classes);
      } catch (e) {
        this.auxClassifier?.dispose();
        throw e;
      }
      this.decoder = this.registerModule('classifier', classifier);
      if (this.auxClassifier) this.registerModule('aux_classifier', this.auxClassifier);
      this.addClassificationHead(options.auxParams);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get segmentationHead(): nn.Module {
    return this.decoder;
  }

  protected logits(features: Tensor[]): Tensor {
    return this.decoder.forward(features[features.length - 1]!) as Tensor;
  }

  protected override auxLogits(features: Tensor[]): Tensor | null {
    return this.auxClassifier ? this.auxClassifier.forward(features[4]!) as Tensor : null;
  }

  protected override get returnsAux(): boolean {
    return this.training && this.auxClassifier !== null;
  }
}

/** Long et al. 2015, "Fully Convolutional Networks for Semantic Segmentation": torchvision's FCN-ResNet variant. */
export class FCNResNet extends TorchvisionSegmentationModel {
  declare readonly decoder: FCNHead;

  constructor(options: TorchvisionModelOptions = {}) {
    super('FCNResNet', options, TORCHVISION_KEYS, (inChannels, classes) => new FCNHead(inChannels, classes));
  }
}
