// smp's replace_strides_with_dilation: every conv of a stage gets stride 1 and the dilation,
// with padding that keeps the size. Used by make_dilated for output stride 16 and 8.
import { nn } from '../../torch/index.js';

export function dilateStage(stage: nn.Module, dilation: number): void {
  for (const m of stage.modules()) {
    if (m instanceof nn.Conv2d) {
      m.stride = [1, 1];
      m.dilation = [dilation, dilation];
      const [kh, kw] = m.kernelSize;
      m.padding = [Math.floor(kh / 2) * dilation, Math.floor(kw / 2) * dilation];
    }
  }
}
