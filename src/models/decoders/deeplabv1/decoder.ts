// DeepLab-LargeFOV's head on the atrous VGG16 (Chen et al. 2015): fc6 as a 3x3 conv with
// dilation 12 and 1024 channels, fc7 as 1x1 with 1024, each with ReLU and dropout 0.5. fc8 (the
// class scores) is the model's segmentation head. Keys: `decoder.fc6`, `decoder.fc7`.
import { nn, type Tensor } from '../../../torch/index.js';

/**
 * DeepLab-LargeFOV's fc6/fc7 (Chen et al., "Semantic Image Segmentation with Deep Convolutional
 * Nets and Fully Connected CRFs", ICLR 2015): VGG's fully connected layers as convolutions,
 * thinned to 1024 channels and fc6 reduced to 3x3 at rate 12, which keeps a 224-pixel field of
 * view at a fraction of the cost.
 */
export class LargeFOV extends nn.Module {
  readonly fc6: nn.Conv2d;
  readonly relu6: nn.ReLU;
  readonly drop6: nn.Dropout;
  readonly fc7: nn.Conv2d;
  readonly relu7: nn.ReLU;
  readonly drop7: nn.Dropout;

  constructor(inChannels = 512, channels = 1024, rate = 12) {
    super();
    this.fc6 = this.registerModule('fc6', new nn.Conv2d(inChannels, channels, 3, { padding: rate, dilation: rate }));
    this.relu6 = this.registerModule('relu6', new nn.ReLU({ inplace: true }));
    this.drop6 = this.registerModule('drop6', new nn.Dropout({ p: 0.5 }));
    this.fc7 = this.registerModule('fc7', new nn.Conv2d(channels, channels, 1));
    this.relu7 = this.registerModule('relu7', new nn.ReLU({ inplace: true }));
    this.drop7 = this.registerModule('drop7', new nn.Dropout({ p: 0.5 }));
    // DeepLab subsamples VGG's fc6/fc7 from ImageNet; from scratch they start as torchvision
    // initialises VGG's classifier.
    for (const fc of [this.fc6, this.fc7]) {
      nn.init.normal_(fc.weight, { std: 0.01 });
      nn.init.zeros_(fc.bias!);
    }
  }

  /** features: the atrous VGG encoder's six; the last is pool5 at stride 8. */
  forward(features: Tensor[]): Tensor {
    const h = this.drop6.forward(this.relu6.forward(this.fc6.forward(features[features.length - 1]!)));
    return this.drop7.forward(this.relu7.forward(this.fc7.forward(h)));
  }
}
