// torchvision's FCN on a dilated ResNet (torchvision.models.segmentation.fcn_resnet50/101):
// the backbone at output stride 8, FCNHead on layer4, an optional FCNHead on layer3 for the
// auxiliary loss, logits resized bilinearly to the input. Keys are torchvision's
// (`backbone.layer1.0.conv1.weight`, `classifier.0.weight`, `aux_classifier.4.bias`), so its
// checkpoints (fcn_resnet50_coco-1167a1af.pth) load with loadStateDict.
import { nn, type Tensor } from '../../../torch/index.js';
import type { OptionReader } from '../../../validate.js';
import type { Encoder } from '../../encoders/base.js';
import type { ModelOptions, OutputFor, NoOptions, AuxFor } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { readModelOptions } from '../common/options.js';
import { SimpleSegmentationModel } from '../common/simple.js';
import { createDilatedBackbone } from './backbone.js';

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
  /** 8 (torchvision's replace_stride_with_dilation [False, True, True]) or 16 ([False, False, True]). */
  encoderOutputStride?: 8 | 16;
  /** 1 as every segkit model (torchvision's default is 21, Pascal VOC's). */
  classes?: number;
  /** torchvision's aux_loss: an FCNHead on layer3 (`aux_classifier.*`); forward returns { mask, aux } in training. */
  aux?: boolean;
  /** Weight of the aux term in model.loss(); 0.5 as torchvision's reference training script. */
  auxLossWeight?: number;
}

export const TORCHVISION_KEYS = ['encoderOutputStride', 'aux', 'auxLossWeight'] as const;

/**
 * The parts every torchvision-layout model shares: `backbone`, `classifier`, `aux_classifier`.
 * Subclasses pass a factory for their classifier, which reads their own options.
 */
export abstract class TorchvisionSegmentationModel<O extends TorchvisionModelOptions> extends SimpleSegmentationModel<
  OutputFor<O>,
  AuxFor<O>
> {
  readonly encoder: Encoder;
  readonly decoder: nn.Module;
  readonly auxClassifier: FCNHead | null;

  protected constructor(
    name: string,
    options: O | undefined,
    extraKeys: readonly string[],
    buildClassifier: (o: OptionReader<TorchvisionModelOptions>, inChannels: number, classes: number) => nn.Module,
  ) {
    super();
    // torchvision's backbone uses all four stages.
    const { o, c } = readModelOptions(name, options, [...TORCHVISION_KEYS, ...extraKeys], { encoderName: 'resnet50', minDepth: 5 });
    const outputStride = o.choice('encoderOutputStride', [8, 16] as const, 8);
    const aux = o.bool('aux', false);
    this.auxLossWeight = o.number('auxLossWeight', 0.5, { min: 0 });
    this.setActivation(c.activation);
    [this.encoder, this.decoder, this.auxClassifier] = buildOrDispose(this, () => {
      const encoder = this.registerModule(
        'backbone',
        createDilatedBackbone(c.encoderName, {
          inChannels: c.inChannels,
          weights: c.encoderWeights,
          outputStride,
        }),
      );
      // torchvision creates the aux head first, then the classifier, then registers them in the other order.
      const auxClassifier = aux ? new FCNHead(encoder.outChannels[4]!, c.classes) : null;
      let classifier: nn.Module;
      try {
        classifier = buildClassifier(o, encoder.outChannels[5]!, c.classes);
      } catch (e) {
        auxClassifier?.dispose(); // not registered yet, so disposing the model would not free it
        throw e;
      }
      const decoder = this.registerModule('classifier', classifier);
      if (auxClassifier) this.registerModule('aux_classifier', auxClassifier);
      this.addClassificationHead(c.auxParams, encoder.outChannels[5]);
      return [encoder, decoder, auxClassifier] as const;
    });
  }

  get segmentationHead(): nn.Module {
    return this.decoder;
  }

  protected logits(features: Tensor[]): Tensor {
    return this.decoder.forward(features[features.length - 1]!) as Tensor;
  }

  protected override auxLogits(features: Tensor[]): Tensor | null {
    return this.auxClassifier ? (this.auxClassifier.forward(features[4]!) as Tensor) : null;
  }

  protected override get returnsAux(): boolean {
    return this.training && this.auxClassifier !== null;
  }
}

/** Long et al. 2015, "Fully Convolutional Networks for Semantic Segmentation": torchvision's FCN-ResNet variant. */
export class FCNResNet<const O extends TorchvisionModelOptions = NoOptions> extends TorchvisionSegmentationModel<O> {
  declare readonly decoder: FCNHead;

  constructor(options?: O) {
    super('FCNResNet', options, [], (_o, inChannels, classes) => new FCNHead(inChannels, classes));
  }
}
