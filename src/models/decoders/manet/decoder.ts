// smp's MAnet decoder (decoders/manet/decoder.py at commit 5006616) with its module names:
// `center.top_conv`, `blocks.0.hl_conv.0.0`, `blocks.0.SE_ll.1`, `blocks.0.SE_hl.1`, `blocks.0.conv1.0`.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { Conv2dReLU } from '../common/modules.js';
import type { NormSpec } from '../common/norm.js';

/**
 * Position-wise Attention Block (Fan et al. 2020, "MA-Net: A Multi-Scale Attention Network for
 * Liver and Tumor Segmentation"): spatial self-attention over the deepest feature. As smp, the
 * softmax runs over the whole (HW x HW) map of each sample.
 */
export class PABBlock extends nn.Module {
  readonly topConv: nn.Conv2d;
  readonly centerConv: nn.Conv2d;
  readonly bottomConv: nn.Conv2d;
  readonly outConv: nn.Conv2d;

  constructor(
    readonly inChannels: number,
    readonly pabChannels = 64,
  ) {
    super();
    this.topConv = this.registerModule('top_conv', new nn.Conv2d(inChannels, pabChannels, 1));
    this.centerConv = this.registerModule('center_conv', new nn.Conv2d(inChannels, pabChannels, 1));
    this.bottomConv = this.registerModule('bottom_conv', new nn.Conv2d(inChannels, inChannels, 3, { padding: 1 }));
    this.outConv = this.registerModule('out_conv', new nn.Conv2d(inChannels, inChannels, 3, { padding: 1 }));
  }

  forward(x: Tensor): Tensor {
    const [b, , h, w] = x.shape as [number, number, number, number];
    const top = this.topConv.forward(x).flatten(2);
    const center = this.centerConv.forward(x).flatten(2).transpose(1, 2);
    const bottom = this.bottomConv.forward(x).flatten(2).transpose(1, 2);
    let map = center.matmul(top);
    map = map
      .view([b, -1])
      .softmax(1)
      .view([b, h * w, h * w]);
    const attended = map.matmul(bottom).reshape([b, this.inChannels, h, w]);
    return this.outConv.forward(x.add(attended));
  }
}

function seBranch(channels: number, reduced: number): nn.Sequential {
  return new nn.Sequential(
    new nn.AdaptiveAvgPool2d(1),
    new nn.Conv2d(channels, reduced, 1),
    new nn.ReLU({ inplace: true }),
    new nn.Conv2d(reduced, channels, 1),
    new nn.Sigmoid(),
  );
}

/**
 * Multi-scale Fusion Attention Block (Fan et al. 2020): squeeze-and-excitation on the upsampled
 * high-level feature and on the skip, summed, gate the high-level feature before concatenation.
 */
export class MFABBlock extends nn.Module {
  readonly hlConv: nn.Sequential;
  readonly seLl: nn.Sequential;
  readonly seHl: nn.Sequential;
  readonly conv1: Conv2dReLU;
  readonly conv2: Conv2dReLU;

  constructor(inChannels: number, skipChannels: number, outChannels: number, useNorm: NormSpec = { type: 'batchnorm' }, reduction = 16) {
    super();
    this.hlConv = this.registerModule(
      'hl_conv',
      new nn.Sequential(
        new Conv2dReLU(inChannels, inChannels, 3, { padding: 1, useNorm }),
        new Conv2dReLU(inChannels, skipChannels, 1, { useNorm }),
      ),
    );
    const reduced = Math.max(1, Math.floor(skipChannels / reduction));
    this.seLl = this.registerModule('SE_ll', seBranch(skipChannels, reduced));
    this.seHl = this.registerModule('SE_hl', seBranch(skipChannels, reduced));
    this.conv1 = this.registerModule('conv1', new Conv2dReLU(skipChannels + skipChannels, outChannels, 3, { padding: 1, useNorm }));
    this.conv2 = this.registerModule('conv2', new Conv2dReLU(outChannels, outChannels, 3, { padding: 1, useNorm }));
  }

  forward(x: Tensor, skip: Tensor | null = null): Tensor {
    let y = F.interpolate(this.hlConv.forward(x) as Tensor, { scaleFactor: 2, mode: 'nearest' });
    let attention = this.seHl.forward(y) as Tensor;
    if (skip) {
      attention = attention.add(this.seLl.forward(skip) as Tensor);
      y = torch.cat([y.mul(attention), skip], 1);
    }
    return this.conv2.forward(this.conv1.forward(y));
  }
}

/** smp's plain decoder block (upsample, concatenate the skip, two Conv2dReLU), used where there is no skip. */
export class MAnetDecoderBlock extends nn.Module {
  readonly conv1: Conv2dReLU;
  readonly conv2: Conv2dReLU;

  constructor(inChannels: number, skipChannels: number, outChannels: number, useNorm: NormSpec = { type: 'batchnorm' }) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2dReLU(inChannels + skipChannels, outChannels, 3, { padding: 1, useNorm }));
    this.conv2 = this.registerModule('conv2', new Conv2dReLU(outChannels, outChannels, 3, { padding: 1, useNorm }));
  }

  forward(x: Tensor, skip: Tensor | null = null): Tensor {
    let y = F.interpolate(x, { scaleFactor: 2, mode: 'nearest' });
    if (skip) y = torch.cat([y, skip], 1);
    return this.conv2.forward(this.conv1.forward(y));
  }
}

/** MA-Net decoder: PAB on the deepest feature, then MFAB blocks (plain blocks where no skip is left). */
export class MAnetDecoder extends nn.Module {
  readonly center: PABBlock;
  readonly blocks: nn.ModuleList;

  constructor(
    encoderChannels: number[],
    decoderChannels: number[],
    options: { reduction?: number; useNorm?: NormSpec; pabChannels?: number } = {},
  ) {
    super();
    const enc = encoderChannels.slice(1).reverse();
    const head = enc[0]!;
    const inChannels = [head, ...decoderChannels.slice(0, -1)];
    const skipChannels = [...enc.slice(1), 0];
    const useNorm = options.useNorm ?? { type: 'batchnorm' };
    this.center = this.registerModule('center', new PABBlock(head, options.pabChannels ?? 64));
    this.blocks = this.registerModule(
      'blocks',
      new nn.ModuleList(
        decoderChannels.map((out, i) =>
          skipChannels[i]! > 0
            ? new MFABBlock(inChannels[i]!, skipChannels[i]!, out, useNorm, options.reduction ?? 16)
            : new MAnetDecoderBlock(inChannels[i]!, skipChannels[i]!, out, useNorm),
        ),
      ),
    );
  }

  forward(features: Tensor[]): Tensor {
    const f = features.slice(1).reverse();
    const skips = f.slice(1);
    let x = this.center.forward(f[0]!);
    [...this.blocks].forEach((b, i) => {
      x = (b as MFABBlock | MAnetDecoderBlock).forward(x, skips[i] ?? null);
    });
    return x;
  }
}
