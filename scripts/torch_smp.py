"""Shared by the PyTorch side of the benches that run smp's own models: safetensors reading (Debian
has no python safetensors) and smp's source, imported with stand-ins for the packages a randomly
initialised or locally loaded model never uses (timm, huggingface_hub, safetensors, tqdm) when
they are missing, or always with SMP_STAND_INS=1 (their versions on other machines may not match
smp's imports)."""
import importlib.abc
import importlib.machinery
import json
import os
import struct
import subprocess
import sys
import types

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
# The smp commit segkit's model parity fixtures were made from.
SMP_COMMIT = '5006616'
SMP_MIRROR = os.environ.get('SMP_MIRROR', '/work/.mirror/qubvel-org+segmentation_models.pytorch/repo')
NP_DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8, 'BOOL': np.bool_}


def read_safetensors(path):
    """name -> torch tensor (Debian has no python safetensors)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    body = memoryview(raw)[8 + n:]
    out = {}
    for name, h in header.items():
        a, b = h['data_offsets']
        arr = np.frombuffer(body[a:b], dtype=NP_DTYPES[h['dtype']]).reshape(h['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def _stand_in(*args, **kwargs):
    raise RuntimeError('stand-in for a package this bench does not have (timm, huggingface_hub, safetensors or tqdm)')


class _StandInMeta(type):
    """Classes of the stand-in modules: any attribute is a function that raises on use; smp's
    classes may subclass them (SMPHubMixin subclasses huggingface_hub's mixin)."""

    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _stand_in

    def __call__(cls, *args, **kwargs):
        if '_stand_in' in cls.__dict__:
            _stand_in()
        return super().__call__(*args, **kwargs)


class _StandInModule(types.ModuleType):
    __path__ = []

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        cls = _StandInMeta(name, (object,), {'_stand_in': True, '__new__': lambda c, *a, **k: object.__new__(c)})
        setattr(self, name, cls)
        return cls


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    PACKAGES = ('timm', 'huggingface_hub', 'safetensors', 'tqdm')
    real = {}

    def find_spec(self, name, path, target=None):
        top = name.split('.')[0]
        if top not in self.PACKAGES:
            return None
        if top not in self.real:  # a real install wins, unless SMP_STAND_INS=1
            forced = os.environ.get('SMP_STAND_INS') == '1'
            self.real[top] = not forced and importlib.machinery.PathFinder.find_spec(top) is not None
        if self.real[top]:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        return _StandInModule(spec.name)

    def exec_module(self, module):
        pass


def smp_source(work):
    """Where smp's source is: SMP_SRC, the repository's .smp-src, or commit SMP_COMMIT extracted
    from the git mirror at SMP_MIRROR into `work`; None when there is none."""
    if os.environ.get('SMP_SRC'):
        return os.environ['SMP_SRC']
    local = os.path.join(ROOT, '.smp-src')
    if os.path.isdir(os.path.join(local, 'segmentation_models_pytorch')):
        return local
    if not os.path.isdir(SMP_MIRROR):
        return None
    out = os.path.join(work, 'smp-src')
    if os.path.isdir(os.path.join(out, 'segmentation_models_pytorch')):
        return out
    tar = out + '.tar'
    os.makedirs(out, exist_ok=True)
    for cmd in (['git', '--git-dir', SMP_MIRROR, 'archive', '-o', tar, SMP_COMMIT, 'segmentation_models_pytorch'], ['tar', '-xf', tar, '-C', out]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f'(could not extract smp {SMP_COMMIT} from {SMP_MIRROR}: {r.stderr.strip()})', file=sys.stderr)
            return None
    return out


def import_smp(smp_src):
    """smp's package from its source folder, or None when there is none."""
    if not (smp_src and os.path.isdir(os.path.join(smp_src, 'segmentation_models_pytorch'))):
        return None
    sys.meta_path.insert(0, _StandInFinder())
    sys.path.insert(0, smp_src)
    import segmentation_models_pytorch as smp
    return smp
