// torchvision's dilated ResNet (`replace_stride_with_dilation=[False, True, True]`), as its
// segmentation models build it. It differs from smp's make_dilated: in each dilated stage the
// FIRST block keeps the previous dilation for its 3x3 conv (stride 1), its downsample conv gets
// stride 1, and only the later blocks take the new dilation (ResNet._make_layer in
// torchvision/models/resnet.py). With pretrained weights the two give different features, so a
// torchvision checkpoint needs torchvision's variant.
import type { nn } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import { createEncoder } from '../../encoders/registry.js';
import { Bottleneck, ResNetEncoder } from '../../encoders/resnet.js';

function setDilation(conv: nn.Conv2d, dilation: number): void {
  conv.stride = [1, 1];
  conv.dilation = [dilation, dilation];
  conv.padding = [dilation, dilation];
}

/**
 * Dilates layer2..layer4 of a Bottleneck ResNet where `replace[i]` is true, exactly as
 * torchvision's _make_layer with dilate=True. Returns the output stride.
 */
export function dilateTorchvision(encoder: ResNetEncoder, replace: [boolean, boolean, boolean]): number {
  let dilation = 1;
  let stride = 4;
  replace.forEach((dilate, i) => {
    const layer = encoder.layers[i + 1]!;
    const previous = dilation;
    if (!dilate) {
      stride *= 2;
      return;
    }
    dilation *= 2;
    layer.children().forEach((block, b) => {
      if (!(block instanceof Bottleneck)) throw new Error('dilateTorchvision: expected Bottleneck blocks');
      setDilation(block.conv2, b === 0 ? previous : dilation);
      if (b === 0 && block.downsample) (block.downsample.at(0) as nn.Conv2d).stride = [1, 1];
    });
  });
  return stride;
}

/** Whether an encoder is a ResNet made of Bottleneck blocks (the ones torchvision can dilate). */
export function isBottleneckResNet(encoder: Encoder): encoder is ResNetEncoder {
  return encoder instanceof ResNetEncoder && encoder.layers[0]!.at(0) instanceof Bottleneck;
}

/**
 * The backbone of torchvision's segmentation models at output stride 8 (or 16). Bottleneck
 * ResNets (resnet50/101) get torchvision's dilation; encoders torchvision cannot dilate
 * (ResNet-18/34, whose BasicBlock refuses dilation there, and other families) get smp's.
 */
export function createDilatedBackbone(
  name: string,
  options: { inChannels?: number; weights?: string | null; outputStride: 8 | 16 },
): Encoder {
  const encoder = createEncoder(name, { depth: 5, inChannels: options.inChannels, weights: options.weights ?? null });
  try {
    if (isBottleneckResNet(encoder)) {
      encoder.outputStride = dilateTorchvision(encoder, options.outputStride === 8 ? [false, true, true] : [false, false, true]);
    } else {
      encoder.makeDilated(options.outputStride);
    }
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  return encoder;
}
