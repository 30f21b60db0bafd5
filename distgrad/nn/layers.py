"""Layers: ``Identity Linear Bilinear Flatten Unflatten``, the dropouts and ``Embedding``,
with PyTorch's constructors, default initialisations and reprs (convolution, pooling and
padding layers are in ``conv.py``, activations in ``activation.py``)."""

from __future__ import annotations

import math

import numpy as np

from .._dtype import get_default_dtype, to_numpy_dtype
from .._tensor import Tensor
from ..ops.linalg import check_same_dtype
from ..ops.nn_fused import apply_linear
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Identity", "Linear", "Flatten", "Unflatten", "Bilinear", "Dropout", "Dropout1d",
           "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Embedding"]


def _empty_parameter(shape, dtype) -> Parameter:
    np_dtype = to_numpy_dtype(dtype) if dtype is not None else get_default_dtype().numpy
    return Parameter(Tensor._wrap(np.zeros(shape, dtype=np_dtype)))


def _pair(value) -> tuple:
    return (value, value) if isinstance(value, int) else tuple(value)


def _single(value) -> tuple:
    return (value,) if isinstance(value, int) else tuple(value)


class Identity(Module):
    """Return the input unchanged (arguments to the constructor are ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Apply ``y = x @ weight.T + bias``.

    Args:
        in_features: size of each input sample (the last dim of the input).
        out_features: size of each output sample.
        bias: whether to learn an additive bias (default True).
        dtype: the parameters' dtype (the default dtype when None).

    ``weight`` ``(out_features, in_features)`` and ``bias`` are initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch.

    Example::

        >>> m = nn.Linear(20, 30)
        >>> m(distgrad.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_parameter((out_features, in_features), dtype)
        if bias:
            self.bias = _empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(f"Linear: expected input with {self.in_features} features in its "
                               f"last dimension, got {shape[-1] if shape else 'a 0-d tensor'} "
                               f"(input shape {list(shape)})")
        params = self._parameters  # not self.weight: Module.__getattr__ is the slow path
        weight = params["weight"]
        if input._data.dtype is not weight._data.dtype:
            check_same_dtype(input._data, weight._data, "Linear")
        return apply_linear(input, weight, params["bias"])

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims ``start_dim`` to ``end_dim`` (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size`` (a tuple or list of ints, one of which
    may be -1), the inverse of :class:`Flatten`."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, n in enumerate(unflattened_size):
            if not isinstance(n, int):
                raise TypeError(f"unflattened_size must be tuple of ints, but found element of "
                                f"type {type(n).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Bilinear(Module):
    """``y = x1 @ weight[k] @ x2 + bias[k]`` for each output feature ``k``.

    ``weight`` ``(out_features, in1_features, in2_features)`` and ``bias`` are initialised
    from U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as in PyTorch.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _empty_parameter((out_features, in1_features, in2_features), dtype)
        if bias:
            self.bias = _empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class _DropoutNd(Module):
    """Shared by the dropout layers: the probability ``p`` and the ``inplace`` flag."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; in evaluation mode, return the input unchanged."""

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """During training, zero whole channels of ``(N, C, L)`` (or ``(C, L)``) input with
    probability ``p`` and scale the others by ``1 / (1 - p)``; in evaluation mode, return the
    input unchanged. ``inplace=True`` multiplies the input in place."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Channel-wise dropout of ``(N, C, H, W)`` input (a 3-D input is taken as
    ``(N, C, L)``, with PyTorch's warning); see :class:`Dropout1d`."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Channel-wise dropout of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input; see
    :class:`Dropout1d`."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's self-normalising mean and variance: during training, dropped
    elements take SELU's negative saturation value and an affine map rescales the rest."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """:class:`AlphaDropout` of whole channels (dim 1)."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    The weight is initialised from N(0, 1); the row ``padding_idx`` (if given) is zeroed and
    never receives a gradient. Gradients of repeated indices accumulate. ``max_norm``,
    ``norm_type`` and ``scale_grad_by_freq`` are as in :func:`distgrad.nn.functional.embedding`
    (``max_norm`` rescales looked-up rows of the weight in place); ``sparse=True`` is not
    supported.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        _lookup_table(self, "Embedding", num_embeddings, embedding_dim, padding_idx, max_norm,
                      norm_type, scale_grad_by_freq, sparse, _weight, dtype)
        if _weight is not None and _freeze:
            self.weight.requires_grad = False

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        if self.max_norm is None and not self.scale_grad_by_freq:
            return F.embedding(input, self.weight, self.padding_idx)
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False):
        """Create an Embedding whose weight is (a copy of) the 2-D ``embeddings``."""
        rows, cols = embeddings.shape
        weight = Tensor._wrap(np.array(embeddings._data if isinstance(embeddings, Tensor)
                                       else embeddings))
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=weight, _freeze=freeze)


def _lookup_table(module, name, num_embeddings, embedding_dim, padding_idx, max_norm,
                  norm_type, scale_grad_by_freq, sparse, weight, dtype) -> None:
    """The arguments and the ``(num_embeddings, embedding_dim)`` weight that ``Embedding``
    and ``EmbeddingBag`` share (initialised from N(0, 1) with the ``padding_idx`` row zeroed,
    or taken from ``weight``)."""
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise AssertionError("padding_idx must be within num_embeddings")
        padding_idx %= num_embeddings
    if sparse:
        raise NotImplementedError(f"{name}: sparse gradients are not supported by distgrad; use "
                                  "sparse=False (the gradient is then dense)")
    module.num_embeddings = num_embeddings
    module.embedding_dim = embedding_dim
    module.padding_idx = padding_idx
    module.max_norm = max_norm
    module.norm_type = norm_type
    module.scale_grad_by_freq = scale_grad_by_freq
    module.sparse = sparse
    if weight is None:
        module.weight = _empty_parameter((num_embeddings, embedding_dim), dtype)
        module.reset_parameters()
    else:
        if tuple(weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError("Shape of weight does not match num_embeddings and embedding_dim")
        module.weight = Parameter(weight)
