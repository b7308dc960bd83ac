"""PyTorch's side of `segkit bench`: one workload of one smp model, timed in this process.

Usage: python3 bench_torch.py '<json spec>'  ->  one JSON line {ms: [...], maxRssMb, source}
spec: {arch, encoder, classes, phase: 'predict'|'train', batch, size, threads, warmup, iters,
      precision?: 'bfloat16' (autocast)}
smp comes from an installed segmentation_models_pytorch, else from its source (SMP_SRC, see
torch_smp.py). The model is smp's, randomly initialised (weights do not change the time)."""
import json
import os
import resource
import sys
import tempfile
import contextlib
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load_smp():
    try:
        import segmentation_models_pytorch as smp
        return smp, f'segmentation_models_pytorch {smp.__version__}'
    except ImportError:
        from torch_smp import import_smp, smp_source
        src = smp_source(os.path.join(tempfile.gettempdir(), 'segkit-smp-src'))
        smp = import_smp(src)
        if smp is None:
            return None, None
        return smp, f'segmentation_models_pytorch from {src}'


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec.get('threads', 1))
    smp, source = load_smp()
    if smp is None:
        print(json.dumps({'error': 'segmentation_models_pytorch is not installed (pip install segmentation-models-pytorch, or SMP_SRC=<its source>)'}))
        return
    if spec.get('probe'):
        print(json.dumps({'source': f'PyTorch {torch.__version__}, {source}'}))
        return
    torch.manual_seed(0)
    model = smp.create_model(spec['arch'], encoder_name=spec['encoder'], encoder_weights=None, classes=spec['classes'])
    x = torch.randn(spec['batch'], 3, spec['size'], spec['size'])
    times = []
    bf16 = spec.get('precision') == 'bfloat16'

    def cast():
        return torch.autocast('cpu', dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    if spec['phase'] == 'predict':
        model.eval()
        for i in range(spec['warmup'] + spec['iters']):
            t0 = time.perf_counter()
            with torch.inference_mode(), cast():
                model(x)
            if i >= spec['warmup']:
                times.append((time.perf_counter() - t0) * 1000)
    else:
        model.train()
        target = (torch.rand(spec['batch'], spec['classes'], spec['size'], spec['size']) > 0.5).float()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        for i in range(spec['warmup'] + spec['iters']):
            t0 = time.perf_counter()
            opt.zero_grad()
            with cast():
                y = model(x)
            torch.nn.functional.binary_cross_entropy_with_logits(y.float(), target).backward()
            opt.step()
            if i >= spec['warmup']:
                times.append((time.perf_counter() - t0) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'ms': times, 'maxRssMb': rss, 'source': f'PyTorch {torch.__version__}, {source}'}))


if __name__ == '__main__':
    main()
