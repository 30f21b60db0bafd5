"""Fused layer kernels: ``linear`` (one node, like PyTorch's addmm), ``embedding``, ``dropout``
and ``gelu``.

Each is a single op so that a layer costs one node in the tape; the VJPs are written against
``xp`` so that ``create_graph=True`` differentiates through them again.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ._nn_common import array_of, call_op, shape_str
from ._registry import apply, defop
from .linalg import check_same_dtype

__all__ = ["linear", "embedding", "dropout", "gelu"]

# ---------------------------------------------------------------------------- linear


def _linear_forward(x, w, b=None):
    out = np.matmul(x, w.T)
    if b is not None:
        out += b  # ``out`` is fresh: adding in place saves one temporary
    return out


def _linear_grad_input(xp, g, out, x, w, b=None):
    return xp.matmul(g, w)


def _linear_grad_weight(xp, g, out, x, w, b=None):
    if g.ndim == 1:
        return xp.expand_dims(g, -1) * xp.expand_dims(x, 0)
    if g.ndim > 2:
        g = xp.reshape(g, (-1, g.shape[-1]))
        x = xp.reshape(x, (-1, x.shape[-1]))
    return xp.matmul(g.T, x)  # (out, N) @ (N, in): row-major, like the weight


def _linear_grad_bias(xp, g, out, x, w, b=None):
    if g.ndim == 1:
        return g
    return xp.sum(g, axis=0 if g.ndim == 2 else tuple(range(g.ndim - 1)))


_LINEAR_VJPS = (_linear_grad_input, _linear_grad_weight, _linear_grad_bias)
_LINEAR_NEEDS = ((1,), (0,), ())  # x's gradient reads w, w's reads x, b's neither
ADDMM = defop("AddmmBackward0", _linear_forward, _LINEAR_VJPS, needs=_LINEAR_NEEDS)
MM = defop("MmBackward0", _linear_forward, _LINEAR_VJPS, needs=_LINEAR_NEEDS)
LINEAR = defop("LinearBackward0", _linear_forward, _LINEAR_VJPS, needs=_LINEAR_NEEDS)


def linear(input, weight, bias=None):
    """Apply ``input @ weight.T + bias`` as one op.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    A 2-D input records ``AddmmBackward0`` (``MmBackward0`` without bias), like PyTorch.
    """
    w_shape = np.shape(array_of(weight))
    x_shape = input.shape if isinstance(input, Tensor) else np.shape(input)
    if len(w_shape) != 2:
        raise RuntimeError(f"linear(): weight must be 2-D (out_features, in_features), got shape "
                           f"{shape_str(w_shape)}")
    if len(x_shape) == 0 or x_shape[-1] != w_shape[1]:
        got = x_shape[-1] if x_shape else "a 0-d tensor"
        raise RuntimeError(f"linear(): expected input with {w_shape[1]} features in its last "
                           f"dimension, got {got} (input shape {shape_str(x_shape)}, weight "
                           f"shape {shape_str(w_shape)})")
    check_same_dtype(array_of(input), array_of(weight), "linear()")
    if bias is not None and np.shape(array_of(bias)) != (w_shape[0],):
        raise RuntimeError(f"linear(): bias must have shape [{w_shape[0]}], got "
                           f"{shape_str(np.shape(array_of(bias)))}")
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor))):
        spec = (MM if bias is None else ADDMM) if len(x_shape) == 2 else LINEAR
        return apply(spec, input, weight) if bias is None else apply(spec, input, weight, bias)
    return apply_linear(input, weight, bias)


def apply_linear(input, weight, bias):
    """Record the linear op on already validated Tensors (``nn.Linear``'s fast path)."""
    spec = (MM if bias is None else ADDMM) if input._data.ndim == 2 else LINEAR
    return spec.ternary(input, weight, bias)


# ------------------------------------------------------------------------- embedding


def _embedding_forward(w, *, indices, num_weights, padding_idx):
    return np.take(w, indices, axis=0)


def _embedding_grad(xp, g, out, w, *, indices, num_weights, padding_idx):
    if padding_idx is not None:
        g = g * np.expand_dims(indices != padding_idx, -1)
    flat_g = xp.reshape(g, (indices.size, g.shape[-1]))
    return xp.index_add((num_weights, g.shape[-1]), indices.reshape(-1), flat_g)


EMBEDDING = defop("EmbeddingBackward0", _embedding_forward, (_embedding_grad,),
                  save_inputs=False)


def embedding(input, weight, padding_idx=None):
    """Look up rows of ``weight`` (``(num_embeddings, embedding_dim)``) at integer ``input``.

    Gradients of repeated indices accumulate; the row ``padding_idx`` receives none.
    """
    indices = np.asarray(array_of(input))
    num = np.shape(array_of(weight))[0]
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"embedding(): expected indices of an integer dtype (int64), got "
                           f"{indices.dtype}; convert with .long()")
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding(): index {int(bad)} is out of range for an embedding with "
                         f"{num} rows (valid indices are 0..{num - 1})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return apply(EMBEDDING, weight, indices=indices, num_weights=num, padding_idx=padding_idx)


# --------------------------------------------------------------------------- dropout


def _dropout_forward(x, *, mask):
    return x * mask


def _dropout_grad(xp, g, out, x, *, mask):
    return g * mask


DROPOUT = defop("NativeDropoutBackward0", _dropout_forward, (_dropout_grad,), save_inputs=False)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Returns ``input`` itself when not ``training`` or when ``p == 0``. ``inplace=True``
    multiplies ``input`` by the mask in place (through the in-place machinery, so a leaf
    that requires grad is refused and a saved value is caught) and returns it.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    from .._factories import default_generator

    x = array_of(input)
    rng = generator.np if generator is not None else default_generator()
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=dtype)
    else:
        mask = (rng.random(x.shape, dtype=np.float32) >= p).astype(dtype)
        mask *= dtype.type(1.0 / (1.0 - p))
    if inplace:
        return input.mul_(Tensor._wrap(mask))
    return apply(DROPOUT, input, mask=mask)


# ------------------------------------------------------------------------------ gelu

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_K = math.sqrt(2.0 / math.pi)
_TANH_C = 0.044715


def _erf(x):
    try:
        from scipy.special import erf
    except ImportError:  # SciPy is optional; math.erf is exact but runs per element
        erf = np.vectorize(math.erf, otypes=[np.float64])
    return erf(x).astype(x.dtype, copy=False)


def _gelu_forward(x, *, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_TANH_K * (x + _TANH_C * x * x * x)))
    return 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))


def _gelu_derivative_forward(x):
    """d gelu / dx = Phi(x) + x phi(x), for the exact (erf) form."""
    cdf = 0.5 * (1.0 + _erf(x * _SQRT_HALF))
    return cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


def _gelu_derivative_grad(xp, g, out, x):
    # d/dx [Phi(x) + x phi(x)] = phi(x) (2 - x^2)
    return g * _INV_SQRT_2PI * xp.exp(-0.5 * x * x) * (2.0 - x * x)


GELU_DERIVATIVE = defop("GeluBackwardBackward0", _gelu_derivative_forward,
                        (_gelu_derivative_grad,))


def _gelu_grad(xp, g, out, x, *, approximate):
    if approximate == "tanh":
        t = xp.tanh(_TANH_K * (x + _TANH_C * x * x * x))
        inner = _TANH_K * (1.0 + 3.0 * _TANH_C * x * x)
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)
    return g * call_op(xp, GELU_DERIVATIVE, x)


GELU = defop("GeluBackward0", _gelu_forward, (_gelu_grad,))


def gelu(input, approximate="none"):
    """Gaussian Error Linear Unit: ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    return apply(GELU, input, approximate=approximate)
