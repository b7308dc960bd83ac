// Atrous Spatial Pyramid Pooling as DeepLab v3 defines it (Chen et al., "Rethinking Atrous
// Convolution for Semantic Image Segmentation", 2017, section 3.3): a 1x1 conv, three 3x3
// atrous convs and image-level pooling, each with BatchNorm, concatenated and projected.
// The module layout is torchvision's, which smp copied, so both name it
// `convs.{0..4}` / `project.{0,1}`: `convs.4` is the pooling branch (`convs.4.1` its conv).
import { torch, nn, F, type Tensor } from '../../../torch/index.js';

/** Depthwise 3x3 then pointwise 1x1 (Chollet 2017; DeepLab v3+ sec. 3.2): Sequential(depthwise, pointwise). */
export class SeparableConv2d extends nn.Sequential {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: { padding?: number; dilation?: number; bias?: boolean } = {},
  ) {
    super(
      new nn.Conv2d(inChannels, inChannels, kernelSize, {
        padding: options.padding ?? 0,
        dilation: options.dilation ?? 1,
        groups: inChannels,
        bias: false,
      }),
      new nn.Conv2d(inChannels, outChannels, 1, { bias: options.bias ?? true }),
    );
  }
}

/** One atrous branch: 3x3 conv at `dilation` (separable in v3+), BatchNorm, ReLU. */
export class ASPPConv extends nn.Sequential {
  constructor(inChannels: number, outChannels: number, dilation: number, separable = false) {
    super(
      separable
        ? new SeparableConv2d(inChannels, outChannels, 3, { padding: dilation, dilation, bias: false })
        : new nn.Conv2d(inChannels, outChannels, 3, { padding: dilation, dilation, bias: false }),
      new nn.BatchNorm2d(outChannels),
      new nn.ReLU(),
    );
  }
}

/** Image-level features: global average, 1x1 conv, BatchNorm, ReLU, broadcast back bilinearly. */
export class ASPPPooling extends nn.Sequential {
  constructor(inChannels: number, outChannels: number) {
    super(
      new nn.AdaptiveAvgPool2d(1),
      new nn.Conv2d(inChannels, outChannels, 1, { bias: false }),
      new nn.BatchNorm2d(outChannels),
      new nn.ReLU(),
    );
  }

  override forward(x: Tensor): Tensor {
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const y = F.interpolate(super.forward(x) as Tensor, { size: [h, w], mode: 'bilinear', alignCorners: false });
    // A 1x1 map has no memory format of its own, so the upsampled one comes out NCHW; in
    // channels_last it is made channels_last too, or torch.cat would fall back to NCHW for all five.
    return !x.isContiguous() && x.isContiguous({ memoryFormat: 'channelsLast' }) ? y.contiguous({ memoryFormat: 'channelsLast' }) : y;
  }
}

export interface ASPPOptions {
  /** Three rates in smp; torchvision accepts any number (the branches are numbered in order). */
  atrousRates: number[];
  outChannels?: number;
  separable?: boolean;
  dropout?: number;
}

/** Chen et al. 2017 (DeepLab v3) ASPP: [1x1, 3x3 at each rate, image pooling] -> concat -> 1x1 projection, dropout. */
export class ASPP extends nn.Module {
  readonly convs: nn.ModuleList;
  readonly project: nn.Sequential;

  constructor(inChannels: number, options: ASPPOptions) {
    super();
    const out = options.outChannels ?? 256;
    const branches: nn.Module[] = [
      new nn.Sequential(new nn.Conv2d(inChannels, out, 1, { bias: false }), new nn.BatchNorm2d(out), new nn.ReLU()),
    ];
    for (const rate of options.atrousRates) branches.push(new ASPPConv(inChannels, out, rate, options.separable ?? false));
    branches.push(new ASPPPooling(inChannels, out));
    this.convs = this.registerModule('convs', new nn.ModuleList(branches));
    this.project = this.registerModule(
      'project',
      new nn.Sequential(
        new nn.Conv2d(branches.length * out, out, 1, { bias: false }),
        new nn.BatchNorm2d(out),
        new nn.ReLU(),
        new nn.Dropout({ p: options.dropout ?? 0.5 }),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    return this.project.forward(
      torch.cat(
        this.convs.children().map((c) => c.forward(x) as Tensor),
        1,
      ),
    ) as Tensor;
  }
}
