// The encoder-decoder segmentation model (smp's SegmentationModel): encoder -> decoder ->
// segmentation head, plus an optional classification head on the deepest feature.
import { torch, nn, F, type Tensor } from '../torch/index.js';
import type { Encoder } from './encoders/base.js';
import { ClassificationHead, type AuxParams } from './heads.js';

export interface ModelOutput { mask: Tensor; label: Tensor }

/**
 * Inputs of any size work: the model pads the bottom and right edges with zeros up to a
 * multiple of `divisor` (the encoder's output stride unless the architecture needs more) and
 * crops the output back, so a 500x375 image gives a 500x375 mask.
 */
export abstract class SegmentationModel extends nn.Module {
  abstract readonly encoder: Encoder;
  abstract readonly decoder: nn.Module;
  abstract readonly segmentationHead: nn.Module;
  classificationHead: ClassificationHead | null = null;

  /** The input size must be a multiple of this; smaller multiples are padded. */
  get divisor(): number {
    return this.encoder.outputStride;
  }

  /** smp's aux_params head on the deepest feature (`channels`: the encoder's last outChannels). */
  addClassificationHead(auxParams: AuxParams | null | undefined, channels = this.encoder.outChannels[this.encoder.outChannels.length - 1]!): void {
    if (!auxParams) return;
    this.classificationHead = this.registerModule('classification_head', new ClassificationHead(channels, auxParams));
  }

  /** The decoder's output for the encoder's features; architectures override when they differ. */
  protected decode(features: Tensor[]): Tensor {
    return this.decoder.forward(features) as Tensor;
  }

  /** Runs inside its own tidy scope, so only the output outlives the call (also outside a tidy). */
  forward(x: Tensor): any {
    return torch.tidy(() => this.forwardImpl(x));
  }

  private forwardImpl(x: Tensor): any {
    const s = x.shape;
    if (s.length !== 4) throw new RangeError(`${this.constructor.name}.forward: input must be 4-D (N, C, H, W), got shape [${s.join(', ')}]`);
    const inChannels = this.encoder.inChannels;
    if (s[1] !== inChannels) {
      throw new RangeError(`${this.constructor.name}.forward: input has ${s[1]} channels (shape [${s.join(', ')}]) but the model was built with inChannels=${inChannels}`);
    }
    const [h, w] = [s[2]!, s[3]!];
    const d = this.divisor;
    const ph = (d - (h % d)) % d;
    const pw = (d - (w % d)) % d;
    const input = ph || pw ? F.pad(x, [0, pw, 0, ph]) : x;
    const features = this.encoder.forward(input);
    let mask = (this.segmentationHead.forward(this.decode(features)) as Tensor);
    if (ph || pw) mask = mask.narrow(2, 0, h).narrow(3, 0, w);
    if (this.classificationHead) return { mask, label: this.classificationHead.forward(features[features.length - 1]!) as Tensor };
    return mask;
  }

  /** Eval mode and inference mode: the forward pass for prediction, with no autograd state. */
  predict(x: Tensor): any {
    if (this.training) this.eval();
    return torch.inferenceMode(() => this.forward(x));
  }
}
