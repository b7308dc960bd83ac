// The model shape shared by torchvision's segmentation models (its _SimpleSegmentationModel)
// and the papers that end the same way (DeepLab v2, PSPNet): a dilated backbone, a classifier
// on its deepest feature, logits resized bilinearly to the input, and optionally an auxiliary
// classifier on an earlier stage whose loss is added at training time.
//
// Any input size works without padding: the logits are interpolated to the input's own size,
// so `divisor` is 1 (the base class's pad-and-crop is not needed here).
import { F, type Tensor } from '../../../torch/index.js';
import { SegmentationModel, type AuxOutput, type ModelOutput } from '../../base.js';
import { Activation, type ActivationOption } from '../../heads.js';

export abstract class SimpleSegmentationModel<Out = Tensor, Aux = never> extends SegmentationModel<Out, Aux> {
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
  protected override forwardImpl(x: Tensor): Tensor | ModelOutput | AuxOutput {
    this.checkInput(x);
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const features = this.encoder.forward(x);
    const mask = this.activationLayer.forward(this.resize(this.logits(features), h, w));
    const aux = this.returnsAux ? this.auxLogits(features) : null;
    const label = this.classificationHead ? (this.classificationHead.forward(features[features.length - 1]!) as Tensor) : undefined;
    if (aux) return { mask, aux: this.activationLayer.forward(this.resize(aux, h, w)), ...(label ? { label } : {}) };
    return label ? { mask, label } : mask;
  }
}
