"""Shared by the PyTorch side of the benches: the same machine fields segkit's buildInfo() reports."""
import re
import sys

import torch


def info():
    cfg = torch.__config__.show()
    cap = re.search(r"CPU capability usage: (\S+)", cfg)
    blas = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpuCapability": cap.group(1) if cap else "unknown",
        "blas": blas.group(1) if blas else "unknown",
        "python": sys.version.split()[0],
    }
