// The encoder-decoder segmentation model (smp's SegmentationModel): encoder -> decoder ->
// segmentation head, plus an optional classification head on the deepest feature.
import { torch, nn, F, type Tensor } from '../torch/index.js';
import { invalidParameterError, readOptions } from '../validate.js';
import type { Encoder } from './encoders/base.js';
import { ClassificationHead, type AuxParams } from './heads.js';

/** What forward returns with smp's `auxParams`: the mask and the image-level label logits. */
export interface ModelOutput {
  mask: Tensor;
  label: Tensor;
}

/** What forward returns in training mode when the model has an auxiliary (deep supervision) head. */
export interface AuxOutput {
  mask: Tensor;
  /** The auxiliary head's logits (after the same activation), at the input size. */
  aux: Tensor;
  /** smp's classification label, when `auxParams` is set. */
  label?: Tensor;
}

/** A loss of a prediction and a target (a module's forward, or any function). */
export type Criterion = (prediction: Tensor, target: Tensor) => Tensor;

function isOutputObject(v: unknown): v is { mask: Tensor; aux?: Tensor; label?: Tensor } {
  return typeof v === 'object' && v !== null && 'mask' in v;
}

/**
 * Inputs of any size work: the model pads the bottom and right edges with zeros up to a
 * multiple of `divisor` (the encoder's output stride unless the architecture needs more) and
 * crops the output back, so a 500x375 image gives a 500x375 mask.
 *
 * `Out` is what forward and predict return (a Tensor, or ModelOutput with `auxParams`); `Aux`
 * is what forward returns instead in training mode when the model has an auxiliary head.
 */
export abstract class SegmentationModel<Out = Tensor, Aux = never> extends nn.Module {
  abstract readonly encoder: Encoder;
  abstract readonly decoder: nn.Module;
  abstract readonly segmentationHead: nn.Module;
  classificationHead: ClassificationHead | null = null;
  /** Weight of the auxiliary head's term in `loss()` (models without one ignore it). */
  auxLossWeight = 0.4;

  /** The input size must be a multiple of this; smaller multiples are padded. */
  get divisor(): number {
    return this.encoder.outputStride;
  }

  /** smp's aux_params head on the deepest feature (`channels`: the encoder's last outChannels). */
  addClassificationHead(
    auxParams: AuxParams | null | undefined,
    channels = this.encoder.outChannels[this.encoder.outChannels.length - 1]!,
  ): void {
    if (!auxParams) return;
    this.classificationHead = this.registerModule('classification_head', new ClassificationHead(channels, auxParams));
  }

  /** The decoder's output for the encoder's features; architectures override when they differ. */
  protected decode(features: Tensor[]): Tensor {
    return this.decoder.forward(features) as Tensor;
  }

  /** Checks an NCHW input against the model's bands. */
  protected checkInput(x: Tensor): void {
    const s = x.shape;
    if (s.length !== 4)
      throw new RangeError(`${this.constructor.name}.forward: input must be 4-D (N, C, H, W), got shape [${s.join(', ')}]`);
    const inChannels = this.encoder.inChannels;
    if (s[1] !== inChannels) {
      throw new RangeError(
        `${this.constructor.name}.forward: input has ${s[1]} channels (shape [${s.join(', ')}]) but the model was built with inChannels=${inChannels}`,
      );
    }
  }

  /**
   * The model is the top of the module tree, so nothing scopes its forward as registration
   * scopes a child's: it runs in its own tidy, and only the output outlives the call.
   */
  forward(x: Tensor): Out | Aux {
    return torch.tidy(() =>
      this.forwardImpl(this.inferenceChannelsLast && x.ndim === 4 ? x.contiguous({ memoryFormat: 'channelsLast' }) : x),
    ) as Out | Aux;
  }

  /** The forward pass itself (inside forward's scope). */
  protected forwardImpl(x: Tensor): Tensor | ModelOutput | AuxOutput {
    this.checkInput(x);
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const d = this.divisor;
    const ph = (d - (h % d)) % d;
    const pw = (d - (w % d)) % d;
    const input = ph || pw ? F.pad(x, [0, pw, 0, ph]) : x;
    const features = this.encoder.forward(input);
    let mask = this.segmentationHead.forward(this.decode(features)) as Tensor;
    if (ph || pw) mask = mask.narrow(2, 0, h).narrow(3, 0, w);
    if (this.classificationHead) return { mask, label: this.classificationHead.forward(features[features.length - 1]!) as Tensor };
    return mask;
  }

  /** Set by optimizeForInference({ channelsLast: true }): forward takes its input to channels_last. */
  private inferenceChannelsLast = false;

  /** Eval mode and inference mode: the forward pass for prediction, with no autograd state. */
  predict(x: Tensor): Out {
    if (this.training) this.eval();
    return torch.inferenceMode(() => this.forward(x)) as Out;
  }

  /**
   * Makes the model a faster predictor, for good: eval mode, every BatchNorm folded into the
   * convolution that feeds it (nn.foldBatchNorms; outputs equal the unoptimised model's within
   * 1e-4 relative in L2 norm, checked on `example`, a random input by default), and with `channelsLast`
   * the weights and forward's inputs in channels_last. Training it afterwards is wrong (the
   * folded BatchNorms no longer normalise), and its state dict no longer loads into a fresh
   * model: save before optimising.
   */
  optimizeForInference(options?: { example?: Tensor; channelsLast?: boolean }): nn.FoldResult & { channelsLast: boolean } {
    const where = `${this.constructor.name}.optimizeForInference`;
    const o = readOptions(where, options, ['example', 'channelsLast']);
    const channelsLast = o.bool('channelsLast', false);
    const given = o.get('example');
    if (given !== undefined && !(given instanceof torch.Tensor))
      throw invalidParameterError(where, 'example', 'a Tensor (N, C, H, W)', given);
    const side = Math.max(128, 2 * this.divisor);
    const device = this.parameters()[0]?.device ?? 'cpu';
    // The random example leaves the caller's generator where it was.
    const rng = given === undefined && device === 'cpu' ? torch.getRngState() : null;
    const example = (given as Tensor | undefined) ?? torch.randn([1, this.encoder.inChannels, side, side], { device });
    if (rng) {
      torch.setRngState(rng);
      rng.dispose();
    }
    try {
      const r = nn.foldBatchNorms(this, example);
      if (channelsLast) this.to({ memoryFormat: 'channelsLast' });
      this.inferenceChannelsLast = channelsLast;
      return { ...r, channelsLast };
    } finally {
      if (given === undefined) example.dispose();
    }
  }

  /**
   * The training loss of what forward returned: criterion(mask, target), plus auxLossWeight *
   * criterion(aux, target) when the output carries an auxiliary head's logits. The label of
   * `auxParams` has its own target and is left to the caller.
   */
  loss(output: Tensor | ModelOutput | AuxOutput, target: Tensor, criterion: Criterion): Tensor {
    if (!isOutputObject(output)) return criterion(output as Tensor, target);
    const { mask, aux } = output;
    return torch.tidy(() => {
      const main = criterion(mask, target);
      return aux ? main.add(criterion(aux, target).mul(this.auxLossWeight)) : main;
    });
  }
}
