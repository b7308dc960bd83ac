// smp's replace_strides_with_dilation: every conv of a stage gets stride 1 and the dilation,
// with padding that keeps the size. Used by make_dilated for output stride 16 and 8. A strided
// max-pool in the stage (Xception downsamples that way) gets stride 1 too: it has no
// parameters, so state-dict keys stay the same.
import { nn } from '../../torch/index.js';

export function dilateStage(stage: nn.Module, dilation: number): void {
  for (const m of stage.modules()) {
    if (m instanceof nn.Conv2d) {
      m.stride = [1, 1];
      m.dilation = [dilation, dilation];
      const [kh, kw] = m.kernelSize;
      m.padding = [Math.floor(kh / 2) * dilation, Math.floor(kw / 2) * dilation];
    } else if (m instanceof nn.MaxPool2d) {
      (m as { stride: [number, number] }).stride = [1, 1];
    }
  }
}
