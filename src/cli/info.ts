// `segkit info`: what the engine runs on.
import { torch } from '../index.js';

export function infoLines(): string[] {
  const i = torch.buildInfo();
  return [
    `libtorch      ${i.libtorch}`,
    `cuda          ${i.cuda ? `yes, ${i.cudaDevices} device(s)` : 'no (CPU-only build)'}`,
    `threads       ${i.threads} (of ${i.hardwareConcurrency} hardware threads)`,
    `cpu kernels   ${i.cpuCapability}`,
    `avx512        ${i.avx512 ? 'yes' : 'no'}`,
    `bf16          ${i.bf16 ? 'yes (avx512_bf16/amx)' : 'no'}`,
    `amx           ${i.amx ? 'yes' : 'no'}`,
    `blas          ${i.blas}`,
    `mkldnn        ${i.mkldnn ? 'yes' : 'no'}`,
  ];
}
