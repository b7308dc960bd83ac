"""PyTorch side of cuda.mjs, the same steps as cuda-worker.mjs on cuda:0 with the models of
torch_models.py. Usage: python3 torch_cuda.py NAME WARMUP ITERS  (or --info)"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_models import MODELS


def main():
    if sys.argv[1] == '--info':
        print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda,
                          'gpu': torch.cuda.get_device_name(0), 'models': list(MODELS)}))
        return
    name, warmup, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    model = MODELS[name]().cuda()
    params = sum(p.numel() for p in model.parameters())

    def timed(fn):
        for _ in range(warmup):
            fn()
        ms = []
        for _ in range(iters):
            t0 = time.perf_counter_ns()
            fn()
            ms.append((time.perf_counter_ns() - t0) / 1e6)
        return ms

    x = torch.randn(8, 3, 512, 512, device='cuda')
    model.eval()

    def predict():
        with torch.inference_mode():
            return model(x).sum().item()

    predict_ms = timed(predict)
    del x
    xt = torch.randn(8, 3, 256, 256, device='cuda')
    yt = (torch.rand(8, 1, 256, 256, device='cuda') > 0.5).float()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def step(amp):
        def run():
            opt.zero_grad()
            with torch.autocast('cuda', dtype=torch.float16, enabled=amp):
                out = model(xt)
            loss = F.binary_cross_entropy_with_logits(out.float(), yt)
            loss.backward()
            opt.step()
            return loss.item()
        return run

    train_ms = timed(step(False))
    amp_ms = timed(step(True))
    print(json.dumps({'params': params, 'predictMs': predict_ms, 'trainMs': train_ms, 'ampMs': amp_ms}))


if __name__ == '__main__':
    main()
