// The model shape shared by torchvision's segmentation models (its _SimpleSegmentationModel)
// and the papers that end the same way (DeepLab v2, PSPNet): a dilated backbone, a classifier
// on its deepest feature, logits resized bilinearly to the input, and optionally an auxiliary
// classifier on an earlier stage whose loss is added at training time.
//
// Any input size works without padding: the logits are interpolated to the input's own size,
// so `divisor` is 1 (the base class's pad-and-crop is not needed here).
import { torch, F, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import { Activation, type ActivationOption } from '../../heads.js';

/** What forward returns in training mode when the auxiliary head is on. */
export interface AuxOutput {
  mask: Tensor;
  /** The auxiliary head's logits (after the same activation), at the input size. */
  aux: Tensor;
  /** smp's classification label, when `auxParams` is set. */
  label?: Tensor;
}

export abstract class SimpleSegmentationModel extends SegmentationModel {
  /** Weight of the auxiliary loss in `loss()` (0.4 in PSPNet; torchvision's reference scripts use 0.5). */
  auxLossWeight = 0.4;
  /** Whether the final resize aligns corners (Caffe's Interp did, so DeepLab v2 and PSPNet do). */
  protected alignCorners = false;
  /** Applied to the logits (and the aux logits) when set; not a registered child: it has no state. */
  protected activationLayer: Activation = new Activation(null);

  protected setActivation(activation: ActivationOption | undefined): void {
    this.activationLayer = new Activation(activation ?? null);
  }

  /** The classifier's logits at the deepest feature's resolution. */
  protected abstract logits(features: Tensor[]): Tensor;

  /** The auxiliary classifier's logits, or null when the model has none. */
  protected auxLogits(_features: Tensor[]): Tensor | null {
    return null;
  }

  /** Whether forward returns the auxiliary output (training mode with an aux head). */
  protected get returnsAux(): boolean {
    return false;
  }

  override get divisor(): number {
    return 1;
  }

  private resize(x: Tensor, h: number, w: number): Tensor {
    if (x.shape[2] === h && x.shape[3] === w) return x;
    return F.interpolate(x, { size: [h, w], mode: 'bilinear', alignCorners: this.alignCorners });
  }

  /**
   * NCHW logits at the input size (after `activation`). In training mode with the auxiliary
   * head on it returns `{ mask, aux }`; with `auxParams` `{ mask, label }` (both: all three).
   */
  override forward(x: Tensor): any {
    const s = x.shape;
    if (s.length !== 4) throw new RangeError(`${this.constructor.name}.forward: input must be 4-D (N, C, H, W), got shape [${s.join(', ')}]`);
    const inChannels = this.encoder.outChannels[0];
    if (s[1] !== inChannels) {
      throw new RangeError(`${this.constructor.name}.forward: input has ${s[1]} channels (shape [${s.join(', ')}]) but the model was built with inChannels=${inChannels}`);
    }
    const [h, w] = [s[2]!, s[3]!];
    return torch.tidy(() => {
      const features = this.encoder.forward(x);
      const mask = this.activationLayer.forward(this.resize(this.logits(features), h, w));
      const out: Partial<AuxOutput> = { mask };
      if (this.returnsAux) {
        const aux = this.auxLogits(features);
        if (aux) out.aux = this.activationLayer.forward(this.resize(aux, h, w));
      }
      if (this.classificationHead) out.label = this.classificationHead.forward(features[features.length - 1]!) as Tensor;
      return out.aux || out.label ? out : mask;
    });
  }

  /**
   * The training loss with the auxiliary term: criterion(mask) + auxLossWeight * criterion(aux),
   * given what forward returned (a plain mask gives criterion(mask)).
   */
  loss(output: Tensor | Partial<AuxOutput>, target: Tensor, criterion: (prediction: Tensor, target: Tensor) => Tensor): Tensor {
    if (!(output && typeof output === 'object' && 'mask' in output)) return criterion(output as Tensor, target);
    const { mask, aux } = output;
    return torch.tidy(() => {
      const main = criterion(mask!, target);
      return aux ? main.add(criterion(aux, target).mul(this.auxLossWeight)) : main;
    });
  }
}
