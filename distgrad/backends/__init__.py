"""``distgrad.backends``: PyTorch's backend switches, settable and recorded.

``torch.backends.cudnn.benchmark = True`` and the like run unchanged; none of these flags
changes what distgrad computes, and ``cudnn``, ``mps`` and ``cuda`` report that they are
not available.
"""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
