"""More math and reductions: the matrix products with an added term (``addmm addbmm baddbmm
addmv addr``), ``tensordot chain_matmul``, the statistics ``std_mean var_mean nanmean nansum
count_nonzero aminmax histc cov corrcoef``, the differences ``diff gradient``, the elementwise
``nan_to_num heaviside signbit copysign nextafter fmod float_power logit deg2rad rad2deg``,
and ``renorm logdet cdist vander``, with the in-place forms PyTorch has.

Ops with a gradient formula of their own are rows of the op table, named as PyTorch's nodes
(``AddmmBackward0``, ``CdistBackward0``...), their VJPs written against ``xp`` so that they
differentiate again. The rest are compositions of existing ops that record what PyTorch
records (``nanmean`` ends in ``DivBackward0``, ``cov`` in ``SqueezeBackward0``); ``std_mean``,
``var_mean`` and ``aminmax`` are one node for both outputs, as in PyTorch.
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew
from . import inplace, linalg_more, reduce, shape_more, shape_ops
from ._broadcast import unbroadcast
from ._nn_common import call_op
from ._registry import apply, defop
from .linalg import mm
from .reduce import normalize_dims, reduction_axes
from .sorting import cumprod

__all__ = [
    "addmm", "addbmm", "baddbmm", "addmv", "addr", "tensordot", "chain_matmul", "std_mean",
    "var_mean", "nanmean", "nansum", "count_nonzero", "aminmax", "histc", "cov", "corrcoef",
    "diff", "gradient", "nan_to_num", "heaviside", "signbit", "copysign", "nextafter", "fmod",
    "float_power", "logit", "deg2rad", "rad2deg", "renorm", "logdet", "cdist", "vander",
    "addmm_", "addbmm_", "baddbmm_", "addmv_", "addr_", "nan_to_num_", "renorm_",
    "heaviside_", "copysign_", "nextafter_", "fmod_", "float_power_", "logit_", "deg2rad_",
    "rad2deg_",
]

AminmaxResult = namedtuple("aminmax", ["min", "max"])

# PyTorch's ScalarType names, and the C++ type names some of its kernels print instead.
_SCALAR_TYPE_NAMES = {
    np.dtype(np.bool_): "Bool", np.dtype(np.uint8): "Byte", np.dtype(np.int8): "Char",
    np.dtype(np.int16): "Short", np.dtype(np.int32): "Int", np.dtype(np.int64): "Long",
    np.dtype(np.float16): "Half", np.dtype(np.float32): "Float", np.dtype(np.float64): "Double",
}
_CPP_TYPE_NAMES = {
    np.dtype(np.bool_): "bool", np.dtype(np.uint8): "unsigned char",
    np.dtype(np.int8): "signed char", np.dtype(np.int16): "short int", np.dtype(np.int32): "int",
    np.dtype(np.int64): "long int", np.dtype(np.float16): "c10::Half",
    np.dtype(np.float32): "float", np.dtype(np.float64): "double",
}


# ----------------------------------------------------------------------------- helpers


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _scalar_type(dtype) -> str:
    dtype = np.dtype(dtype)
    return _SCALAR_TYPE_NAMES.get(dtype, str(dtype))


def _cpp_type(dtype) -> str:
    dtype = np.dtype(dtype)
    return _CPP_TYPE_NAMES.get(dtype, str(dtype))


def _default_float():
    return get_default_dtype().numpy


def _category(dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(np.dtype(dtype).kind, 3)


def _result_dtype(*operands):
    """PyTorch's type promotion: the highest category (bool < integer < floating point) wins,
    and within it tensors with dimensions decide before 0-d tensors, which decide before
    Python numbers (a Python float gives the default dtype)."""
    groups = ([], [], [])
    for x in operands:
        if isinstance(x, (Tensor, np.ndarray)):
            a = _array(x)
            groups[0 if a.ndim else 1].append(a.dtype)
        elif isinstance(x, (bool, np.bool_)):
            groups[2].append(np.dtype(np.bool_))
        elif isinstance(x, (int, np.integer)):
            groups[2].append(np.dtype(np.int64))
        elif isinstance(x, (float, np.floating)):
            groups[2].append(_default_float())
    top = builtins.max(_category(d) for group in groups for d in group)
    for group in groups:
        members = [d for d in group if _category(d) == top]
        if members:
            return np.result_type(*members)
    raise AssertionError("no operands")


def _float_result_dtype(*operands):
    """:func:`_result_dtype`, with integer and bool results made the default float dtype."""
    dtype = _result_dtype(*operands)
    return dtype if dtype.kind == "f" else _default_float()


def _as_dtype(x, dtype):
    """A tensor or array operand in ``dtype`` (a cast that records for tensors); numbers are
    left as they are, for NumPy treats them as weakly typed, as PyTorch does."""
    if isinstance(x, Tensor):
        return shape_ops.cast(x, dtype)
    if isinstance(x, np.ndarray) and x.dtype != dtype:
        return x.astype(dtype)
    return x


def _promoted(op, a, b, true_divide=False):
    """``op(a, b)`` with both operands first brought to PyTorch's result dtype (NumPy would
    promote, e.g., ``float32 * int64`` to float64)."""
    dtype = _float_result_dtype(a, b) if true_divide else _result_dtype(a, b)
    return op(_as_dtype(a, dtype), _as_dtype(b, dtype))


def _broadcast_shape(shape_a, shape_b) -> tuple:
    """``np.broadcast_shapes``, raising PyTorch's error."""
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    try:
        return np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        ndim = builtins.max(len(shape_a), len(shape_b))
        for i in range(1, ndim + 1):
            a = shape_a[-i] if i <= len(shape_a) else 1
            b = shape_b[-i] if i <= len(shape_b) else 1
            if a != b and a != 1 and b != 1:
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                                   f"({b}) at non-singleton dimension {ndim - i}") from None
        raise


def _check_expands(x, target) -> None:
    """Raise PyTorch's error where ``x`` (the added term) does not broadcast to ``target``."""
    shape, target = tuple(np.shape(_array(x))), tuple(target)
    if len(shape) > len(target):
        kind = f"torch.{_scalar_type(_array(x).dtype)}Tensor"
        raise RuntimeError(f"expand({kind}{{{list(shape)}}}, size={list(target)}): the number of "
                           f"sizes provided ({len(target)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shape)})")
    lead = len(target) - len(shape)
    for i in reversed(range(len(shape))):
        if shape[i] != 1 and shape[i] != target[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({target[lead + i]}) must match "
                               f"the existing size ({shape[i]}) at non-singleton dimension "
                               f"{lead + i}.  Target sizes: {list(target)}.  Tensor sizes: "
                               f"{list(shape)}")


def _check_unique(dims, ndim: int) -> None:
    """Raise PyTorch's error for a dim listed twice (naming the dim, not the list)."""
    seen = set()
    for d in dims:
        axis = normalize_dims(d, ndim)[0]
        if axis in seen:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
        seen.add(axis)


def _all_or_dims(dim, ndim: int) -> tuple:
    """Reduction axes: all of them for None or an empty list, as in PyTorch."""
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        _check_unique(dim, ndim)
    return reduction_axes(dim, ndim)


def _kept_shape(shape, axes) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _unreduce(g, shape, axes, keepdim):
    """A reduced gradient (a tensor) reshaped to broadcast against the input's ``shape``."""
    if keepdim or not axes:
        return g
    return shape_ops.reshape(g, _kept_shape(shape, axes))


def _as_array_grad(g):
    """The engine may hand a custom Function's backward a 0-d gradient holding a NumPy scalar,
    which ops would take for a Python float (and give the default dtype): make it an array."""
    if g is not None and not g._requires_grad and g._data.__class__ is not np.ndarray:
        return Tensor._wrap(np.asarray(g._data))
    return g


def _not_differentiable(name):
    def vjp(xp, g, out, *inputs, **params):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return vjp


def _zero_grad(xp, g, out, *inputs, **params):
    return xp.zeros(g.shape, dtype=g.dtype)


def _identity_grad(xp, g, out, *inputs, **params):
    return g


def _fmt(value: float) -> str:
    """A double as C++'s ostream prints it (PyTorch's messages)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:g}"


# ------------------------------------------------- matrix products with an added term
# ``beta * input + alpha * (product)``; ``input`` broadcasts to the product's shape. With
# ``beta == 0`` the input is ignored (NaN and inf included), with ``alpha == 0`` the product.


def _combine(x, product, beta, alpha):
    if alpha == 0:
        product = np.zeros_like(product)
    elif alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (x if beta == 1 else x * beta)


def _addmm_forward(x, m1, m2, beta, alpha):
    return _combine(x, np.matmul(m1, m2), beta, alpha)


def _addbmm_forward(x, b1, b2, beta, alpha):
    return _combine(x, np.matmul(b1, b2).sum(0), beta, alpha)


def _addr_forward(x, v1, v2, beta, alpha):
    dtype = _result_dtype(x, v1, v2)
    if dtype == np.bool_:
        out = np.logical_and.outer(v1, v2) if alpha else np.zeros((v1.size, v2.size), bool)
        return out | x if beta else out
    return _combine(x.astype(dtype), np.outer(v1.astype(dtype), v2.astype(dtype)), beta, alpha)


def _scaled(g, factor):
    return g if factor == 1 else g * factor


def _input_grad(xp, g, out, x, a, b, beta, alpha):
    return _scaled(g, beta)  # summed back to the input's shape by the registry


def _mm_grad_a(xp, g, out, x, a, b, beta, alpha):
    return _scaled(xp.matmul(g, xp.swapaxes(b, -1, -2)), alpha)


def _mm_grad_b(xp, g, out, x, a, b, beta, alpha):
    return _scaled(xp.matmul(xp.swapaxes(a, -1, -2), g), alpha)


def _addbmm_grad_a(xp, g, out, x, a, b, beta, alpha):
    return _scaled(xp.matmul(xp.expand_dims(g, 0), xp.swapaxes(b, -1, -2)), alpha)


def _addbmm_grad_b(xp, g, out, x, a, b, beta, alpha):
    return _scaled(xp.matmul(xp.swapaxes(a, -1, -2), xp.expand_dims(g, 0)), alpha)


def _addmv_grad_mat(xp, g, out, x, mat, vec, beta, alpha):
    return _scaled(xp.expand_dims(g, -1) * vec, alpha)


def _addmv_grad_vec(xp, g, out, x, mat, vec, beta, alpha):
    return _scaled(xp.matmul(xp.swapaxes(mat, -1, -2), g), alpha)


def _addr_grad_vec1(xp, g, out, x, v1, v2, beta, alpha):
    return _scaled(xp.matmul(g, v2), alpha)


def _addr_grad_vec2(xp, g, out, x, v1, v2, beta, alpha):
    return _scaled(xp.matmul(xp.swapaxes(g, -1, -2), v1), alpha)


def _product_jvp(product):
    """Forward mode: ``beta * dx + alpha * (product(da, b) + product(a, db))``."""
    def jvp(tangents, out, x, a, b, beta, alpha):
        tx, ta, tb = tangents
        result = 0
        if ta is not None:
            result = result + alpha * product(ta, b)
        if tb is not None:
            result = result + alpha * product(a, tb)
        if tx is not None and beta != 0:
            result = result + beta * tx
        return result
    return jvp


def _add_product_op(name, forward, grad_a, grad_b, product, names):
    return defop(name, forward, (_input_grad, grad_a, grad_b), broadcast=True,
                 jvp=_product_jvp(product), needs=((), (2,), (1,)), saved=(None, *names),
                 saved_params=("alpha", "beta"), scalar_args=True)


ADDMM = _add_product_op("AddmmBackward0", _addmm_forward, _mm_grad_a, _mm_grad_b, np.matmul,
                        ("mat1", "mat2"))
BADDBMM = _add_product_op("BaddbmmBackward0", _addmm_forward, _mm_grad_a, _mm_grad_b,
                          np.matmul, ("batch1", "batch2"))
ADDBMM = _add_product_op("AddbmmBackward0", _addbmm_forward, _addbmm_grad_a, _addbmm_grad_b,
                         lambda a, b: np.matmul(a, b).sum(0), ("batch1", "batch2"))
ADDMV = _add_product_op("AddmvBackward0", _addmm_forward, _addmv_grad_mat, _addmv_grad_vec,
                        np.matmul, ("mat", "vec"))
ADDR = _add_product_op("AddrBackward0", _addr_forward, _addr_grad_vec1, _addr_grad_vec2,
                       np.outer, ("vec1", "vec2"))


def _integral_scalars(dtype, beta, alpha):
    """PyTorch casts ``beta`` and ``alpha`` to an integer result's type (truncating)."""
    if dtype.kind in "iu":
        return int(beta), int(alpha)
    return beta, alpha


def _no_bool(kernel, dtype):
    if dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _check_same_dtype(x, a, b, names=("mat1", "mat2")):
    dx, da, db = _array(x).dtype, _array(a).dtype, _array(b).dtype
    if dx != db:
        raise RuntimeError(f"self and {names[1]} must have the same dtype, but got "
                           f"{_scalar_type(dx)} and {_scalar_type(db)}")
    if da != db:
        raise RuntimeError(f"{names[0]} and {names[1]} must have the same dtype, but got "
                           f"{_scalar_type(da)} and {_scalar_type(db)}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """Return ``beta * input + alpha * (mat1 @ mat2)``.

    ``mat1`` is ``(n, m)``, ``mat2`` is ``(m, p)`` and ``input`` broadcasts to ``(n, p)``.
    With ``beta=0`` the input is ignored, so NaN and inf in it do not propagate.
    """
    x, a, b = _array(input), _array(mat1), _array(mat2)
    _check_same_dtype(x, a, b)
    for name, m in (("mat1", a), ("mat2", b)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")
    _check_expands(x, (a.shape[0], b.shape[1]))
    _no_bool("addmm_impl_cpu_", a.dtype)
    beta, alpha = _integral_scalars(a.dtype, beta, alpha)
    return apply(ADDMM, input, mat1, mat2, beta=beta, alpha=alpha)


def _check_batches(b1, b2):
    for label, b in (("batch1", b1), ("batch2", b2)):
        if b.ndim != 3:
            raise RuntimeError(f"{label} must be a 3D tensor")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """Return ``beta * input + alpha * sum_i(batch1[i] @ batch2[i])``.

    ``batch1`` is ``(b, n, m)``, ``batch2`` is ``(b, m, p)`` and ``input`` broadcasts to
    ``(n, p)``: the products are summed over the batch.
    """
    x, a, b = _array(input), _array(batch1), _array(batch2)
    _check_same_dtype(x, a, b)
    _check_batches(a, b)
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{a.shape[0]} and {b.shape[0]}")
    if a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({a.shape[1]}x{a.shape[2]} and "
                           f"{b.shape[1]}x{b.shape[2]})")
    _check_expands(x, (a.shape[1], b.shape[2]))
    _no_bool("addmm_impl_cpu_", a.dtype)
    beta, alpha = _integral_scalars(a.dtype, beta, alpha)
    return apply(ADDBMM, input, batch1, batch2, beta=beta, alpha=alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """Return ``beta * input + alpha * (batch1 @ batch2)``, batch by batch.

    ``batch1`` is ``(b, n, m)``, ``batch2`` is ``(b, m, p)`` and ``input`` broadcasts to
    ``(b, n, p)``.
    """
    x, a, b = _array(input), _array(batch1), _array(batch2)
    if x.dtype != a.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_cpp_type(x.dtype)}, "
                           f"batch1: {_cpp_type(a.dtype)}, batch2: {_cpp_type(b.dtype)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type(a.dtype)} but found "
                           f"{_scalar_type(b.dtype)}")
    _check_batches(a, b)
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _check_expands(x, (a.shape[0], a.shape[1], b.shape[2]))
    _no_bool("baddbmm", a.dtype)
    beta, alpha = _integral_scalars(a.dtype, beta, alpha)
    return apply(BADDBMM, input, batch1, batch2, beta=beta, alpha=alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """Return ``beta * input + alpha * (mat @ vec)``.

    ``mat`` is ``(n, m)``, ``vec`` is ``(m,)`` and ``input`` broadcasts to ``(n,)``.
    """
    x, a, b = _array(input), _array(mat), _array(vec)
    if not (a.ndim == 2 and b.ndim == 1 and x.ndim <= 1):
        raise RuntimeError(f"vector + matrix @ vector expected, got {x.ndim}, {a.ndim}, {b.ndim}")
    if a.shape[1] != b.shape[0] or (x.size != 1 and x.shape[0] != a.shape[0]):
        size = f"{x.shape[0]}" if x.ndim else ""
        raise RuntimeError(f"size mismatch, got input ({size}), mat ({a.shape[0]}x{a.shape[1]}), "
                           f"vec ({b.shape[0]})")
    if not x.dtype == a.dtype == b.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{_scalar_type(x.dtype)}, {_scalar_type(a.dtype)}, and "
                           f"{_scalar_type(b.dtype)}")
    _no_bool("addmv_impl_cpu", a.dtype)
    beta, alpha = _integral_scalars(a.dtype, beta, alpha)
    return apply(ADDMV, input, mat, vec, beta=beta, alpha=alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """Return ``beta * input + alpha * outer(vec1, vec2)``; ``input`` broadcasts to
    ``(len(vec1), len(vec2))``. The operands may differ in dtype (the result promotes); for
    bool tensors it is ``(beta and input) or (alpha and vec1 ⊗ vec2)``."""
    x, a, b = _array(input), _array(vec1), _array(vec2)
    for name, v in (("vec1", a), ("vec2", b)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    dtype = _result_dtype(input, vec1, vec2)
    for name, value in (("beta", beta), ("alpha", alpha)):
        if isinstance(value, bool) and dtype != np.bool_:
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
        if isinstance(value, float) and dtype.kind in "biu":
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               f"floating point number.")
    _check_expands(x, (a.shape[0], b.shape[0]))
    return apply(ADDR, input, vec1, vec2, beta=beta, alpha=alpha)


# ----------------------------------------------------------- tensordot, chain_matmul


def tensordot(a, b, dims=2):
    """Contract ``a`` and ``b`` over the given dimensions.

    ``dims`` is an int ``d`` (the last ``d`` dims of ``a`` with the first ``d`` of ``b``), a
    pair of lists ``([dims of a], [dims of b])``, or a tensor holding either. A contracted
    dim of size 1 broadcasts against the other operand's (its sum is taken).
    """
    if isinstance(dims, Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f"dims tensor must have size 2 in first dimension, got "
                                     f"{dims.shape[0]}")
            dims_a, dims_b = dims[0].tolist(), dims[1].tolist()
        else:
            dims = int(dims.item())
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    elif isinstance(dims, (tuple, list)):
        dims_a, dims_b = dims
        for i, d in enumerate((dims_a, dims_b)):
            if not isinstance(d, (list, tuple)):
                name = "dims_self" if i == 0 else "dims_other"
                raise TypeError(f"tensordot(): argument '{name}' (position {3 + i}) must be "
                                f"tuple of ints, not {type(d).__name__}")
    elif not isinstance(dims, Tensor):
        raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    return _tensordot(a, b, [int(d) for d in dims_a], [int(d) for d in dims_b])


def _tensordot(a, b, dims_a, dims_b):
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    t1, t2, contracted = a, b, 1
    for da, db in zip(dims_a, dims_b):
        s1 = a.shape[normalize_dims(da, a.ndim)[0]]
        s2 = b.shape[normalize_dims(db, b.ndim)[0]]
        if s2 == 1:  # a broadcast dimension: summed right away
            t1 = reduce.sum(t1, da, keepdim=True)
        elif s1 == 1:
            t2 = reduce.sum(t2, db, keepdim=True)
        elif s1 != s2:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {s1} in "
                               f"dim {da} and second has size {s2} in dim {db}")
        else:
            contracted *= s1
    _check_unique(dims_a, a.ndim)
    _check_unique(dims_b, b.ndim)
    axes_a = [normalize_dims(d, a.ndim)[0] for d in dims_a]
    axes_b = [normalize_dims(d, b.ndim)[0] for d in dims_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    sizes = [t1.shape[i] for i in free_a] + [t2.shape[i] for i in free_b]
    m1 = shape_ops.reshape(shape_ops.permute(t1, free_a + axes_a),
                           (math.prod(t1.shape[i] for i in free_a), contracted))
    m2 = shape_ops.reshape(shape_ops.permute(t2, axes_b + free_b),
                           (contracted, math.prod(t2.shape[i] for i in free_b)))
    return shape_ops.reshape(mm(m1, m2), tuple(sizes))


def chain_matmul(*matrices):
    """The product of the 2-D ``matrices``, in the order that needs the fewest operations.

    Deprecated in PyTorch: use :func:`distgrad.linalg.multi_dot`, which takes a list.
    """
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return ew.clone(matrices[0])
    first = matrices[0]._data.dtype
    for i, m in enumerate(matrices[1:], 1):
        if m._data.dtype != first:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {_cpp_type(first).split()[-1]} and tensor {i} "
                               f"{_cpp_type(m._data.dtype).split()[-1]}")
        if matrices[i - 1].shape[1] != m.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i - 1} and {i} with shapes "
                               f"{list(matrices[i - 1].shape)} and {list(m.shape)} cannot be "
                               f"multiplied")
    out = linalg_more.multi_dot(list(matrices))
    return shape_ops.view(out, out.shape)  # PyTorch's multi_dot ends in a view


# ------------------------------------------------------------------ std_mean, var_mean


class _Moments(Function):
    """Variance (or standard deviation) and mean over ``axes``: one node for both."""

    take_sqrt = False

    @classmethod
    def forward(cls, ctx, x, axes, correction, keepdim, name):
        data = x._data
        count = math.prod(data.shape[a] for a in axes) if data.ndim else 1
        dof = builtins.max(count - correction, 0)
        if dof <= 0:
            warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                          f"less than the reduction factor (input numel divided by output numel).",
                          UserWarning, stacklevel=4)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing is NaN
            mean = np.mean(data, axis=axes, keepdims=True)
            centered = data - mean
            first = np.sum(centered * centered, axis=axes, keepdims=True) / np.asarray(
                dof, dtype=data.dtype)
            if cls.take_sqrt:
                first = np.sqrt(first)
        if not keepdim:
            first, mean = np.squeeze(first, axis=axes), np.squeeze(mean, axis=axes)
        first, mean = Tensor._wrap(np.asarray(first)), Tensor._wrap(np.asarray(mean))
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, first)
        ctx.axes, ctx.keepdim, ctx.count, ctx.dof = axes, keepdim, count, dof
        return first, mean

    @classmethod
    def backward(cls, ctx, g_first, g_mean):
        x, first = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        g_first, g_mean = _as_array_grad(g_first), _as_array_grad(g_mean)
        grad = None
        if g_first is not None:
            if cls.take_sqrt:  # d std = d var / (2 std), and 0 where std is 0 (as PyTorch)
                zero = first._data == 0
                g_first = ew.where(zero, 0.0, g_first / (ew.where(zero, 1.0, first) * 2))
            g_first = _unreduce(g_first, x.shape, axes, keepdim)
            centered = x - reduce.mean(x, axes, keepdim=True)
            with np.errstate(divide="ignore"):
                scale = np.float64(2.0) / ctx.dof
            grad = g_first * centered * float(scale)
        if g_mean is not None:
            g_mean = _unreduce(g_mean, x.shape, axes, keepdim) / float(ctx.count)
            g_mean = shape_ops.expand(g_mean, x.shape)
            grad = g_mean if grad is None else grad + g_mean
        return grad, None, None, None, None


class _StdMean(_Moments):
    take_sqrt = True


class _VarMean(_Moments):
    pass


linalg_more._named(_StdMean, "StdMeanBackward0")
linalg_more._named(_VarMean, "VarMeanBackward0")


def _moments(cls, name, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # std_mean(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both "
                        f"unbiased and correction; pass only correction (unbiased=True is "
                        f"correction=1)")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    axes = _all_or_dims(dim, input.ndim)
    return cls.apply(input, axes, correction, keepdim, name)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Return ``(std, mean)`` over ``dim`` (all dims when None).

    ``correction`` is subtracted from the number of elements in the denominator of the
    variance (1, Bessel's correction, by default; ``unbiased=False`` is ``correction=0``).
    Both results come from one node, ``StdMeanBackward0``.
    """
    return _moments(_StdMean, "std_mean", input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Return ``(var, mean)`` over ``dim`` (all dims when None); see :func:`std_mean`."""
    return _moments(_VarMean, "var_mean", input, dim, unbiased, keepdim, correction)


# ----------------------------------------------------- nansum, nanmean, count_nonzero


def _nansum_forward(x, dim, keepdim):
    return np.nansum(x, axis=dim, keepdims=keepdim)


def _nansum_grad(xp, g, out, x, dim, keepdim):
    # A mask product, not where(): an infinite gradient at a NaN gives NaN, as in PyTorch.
    g = reduce._expand_back(xp, g, x.shape, dim, keepdim)
    return xp.broadcast_to(g, x.shape) * ~np.isnan(_array(x))


def _nansum_jvp(tangents, out, x, dim, keepdim):
    return np.sum(np.where(np.isnan(x), 0, tangents[0]), axis=dim, keepdims=keepdim)


NANSUM = defop("NansumBackward0", _nansum_forward, (_nansum_grad,), jvp=_nansum_jvp,
               saved_params=("dim", "keepdim"))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dims when None), treating NaN as zero.

    Booleans and integers sum to int64; ``dtype`` casts the input first.
    """
    if dtype is not None:
        input = shape_ops.cast(input, dtype)
    elif input._data.dtype.kind in "biu":
        input = shape_ops.cast(input, np.int64)
    axes = _all_or_dims(dim, input.ndim)
    data = input._data
    if data.dtype.kind != "f":
        return Tensor._wrap(np.asarray(np.sum(data, axis=axes, keepdims=keepdim)))
    return apply(NANSUM, input, dim=axes, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims when None) of the elements that are not NaN.

    Computed as ``nansum / (number of non-NaN elements)``: NaN where all of them are NaN.
    """
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_scalar_type(input._data.dtype)}")
    total = nansum(input, dim, keepdim, dtype=dtype)
    axes = _all_or_dims(dim, input.ndim)
    count = np.sum(~np.isnan(input._data), axis=axes, keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ew.div(total, np.asarray(count, dtype=total._data.dtype))


def count_nonzero(input, dim=None):
    """The number of non-zero elements over ``dim`` (all dims when None), as int64."""
    axes = _all_or_dims(dim, input.ndim)
    return Tensor._wrap(np.asarray(np.sum(input._data != 0, axis=axes, dtype=np.int64)))


# ------------------------------------------------------------------------ aminmax


class _Aminmax(Function):
    """``(min, max)`` over ``axes``; each splits its gradient evenly among ties."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        data = x._data
        low = np.asarray(np.min(data, axis=axes, keepdims=keepdim))
        high = np.asarray(np.max(data, axis=axes, keepdims=keepdim))
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim, ctx.low, ctx.high = axes, keepdim, low, high
        return Tensor._wrap(low), Tensor._wrap(high)

    @staticmethod
    def backward(ctx, g_min, g_max):
        (x,) = ctx.saved_tensors
        data, axes, keepdim = x._data, ctx.axes, ctx.keepdim
        g_min, g_max = _as_array_grad(g_min), _as_array_grad(g_max)
        grad = None
        for g, extreme in ((g_min, ctx.low), (g_max, ctx.high)):
            if g is None:
                continue
            hit = data == (extreme if keepdim else np.expand_dims(extreme, axes))
            with np.errstate(invalid="ignore", divide="ignore"):
                share = (hit / np.sum(hit, axis=axes, keepdims=True)).astype(data.dtype)
            term = _unreduce(g, data.shape, axes, keepdim) * share
            grad = term if grad is None else grad + term
        return grad, None, None


linalg_more._named(_Aminmax, "AminmaxBackward0")


def aminmax(input, *, dim=None, keepdim=False):
    """Return the named tuple ``(min, max)`` over ``dim`` (all elements when None).

    Both come from one node (``AminmaxBackward0``); ties share the gradient evenly.
    """
    data = input._data
    if dim is None:
        if data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        axes = tuple(range(data.ndim))
    else:
        axes = reduction_axes(dim, data.ndim)
        if axes and data.shape[axes[0]] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axes[0]} to have non-zero size.")
    return AminmaxResult(*_Aminmax.apply(input, axes, keepdim))


# --------------------------------------------------------------------------- histc


def histc(input, bins=100, min=0, max=0):
    """Histogram of ``input`` in ``bins`` equal-width bins between ``min`` and ``max``.

    With ``min == max`` the data's minimum and maximum are used. Elements outside the range
    (and NaN) are ignored; the last bin includes its right edge. The result has the input's
    dtype and no gradient.
    """
    data = input._data
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histc(): argument 'bins' (position 2) must be int, not "
                        f"{type(bins).__name__}")
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{_scalar_type(data.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(np.min(data)), float(np.max(data))
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{_fmt(low)}, {_fmt(high)}] is not finite")
    if not low < high:
        raise RuntimeError("torch.histc: max must be larger than min")
    # PyTorch's arithmetic, in the input's dtype: bin = (x - low) * bins / (high - low).
    kind = data.dtype.type
    left, right = kind(low), kind(high)
    flat = data.reshape(-1)
    values = flat[(flat >= left) & (flat <= right)]
    with np.errstate(over="ignore"):
        position = ((values - left) * kind(bins) / (right - left)).astype(np.int64)
    position = np.minimum(position, bins - 1)
    return Tensor._wrap(np.bincount(position, minlength=bins).astype(data.dtype))


# ---------------------------------------------------------------------- cov, corrcoef


def _check_weights(name, w, observations, integral):
    data = w._data
    if data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {data.ndim} dimensions")
    if integral and data.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{_scalar_type(data.dtype)} dtype")
    if not integral and data.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} "
                           f"with {_scalar_type(data.dtype)} dtype")
    if data.size != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {data.size} != {observations}")
    if observations and np.min(data) < 0:
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns; a 1-D input is one variable).

    ``correction`` is subtracted from the (weighted) number of observations in the
    denominator; ``fweights`` are integer frequencies and ``aweights`` observation weights,
    as in ``numpy.cov``. Gradients flow to ``input`` and to ``aweights``.
    """
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    if input._data.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"cov(): argument 'correction' must be int, not "
                        f"{type(correction).__name__}")
    x = input if input.ndim == 2 else shape_ops.view(input, (1, -1))
    observations = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, observations, integral=True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, observations, integral=False)
        w = aweights if w is None else _promoted(ew.mul, w, aweights)
    if w is None:
        w_sum = observations
    else:
        w_sum = reduce.sum(w)
        if not np.all(w_sum._data != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    weighted = x if w is None else _promoted(ew.mul, x, w)
    avg = _promoted(ew.div, reduce.sum(weighted, 1), w_sum, true_divide=True)
    if w is None:
        norm_factor = observations - correction
    elif correction == 0:
        norm_factor = w_sum
    elif aweights is None:
        norm_factor = w_sum - correction
    elif fweights is None and observations == 1 and correction == 1:
        norm_factor = 0
    else:
        spread = reduce.sum(_promoted(ew.mul, w, aweights))
        norm_factor = w_sum - _promoted(ew.div, spread * correction, w_sum, true_divide=True)
    if np.all(_array(norm_factor) <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than "
                      "the number of observations.", UserWarning, stacklevel=2)
        norm_factor = 0
    if observations == 1 and (fweights is None) != (aweights is None):
        # One observation with one kind of weight: the centred input is exactly zero.
        dtype = x._data.dtype if x._data.dtype.kind == "f" else np.float32
        centered = Tensor._wrap(np.zeros(x.shape, dtype))
    else:
        centered = _promoted(ew.sub, x, shape_ops.unsqueeze(avg, 1))
    other = centered if w is None else _promoted(ew.mul, centered, w)
    c = _promoted(mm, centered, shape_ops.transpose(other, 0, 1))
    norm_factor = np.asarray(norm_factor) if not isinstance(norm_factor, Tensor) else norm_factor
    with np.errstate(divide="ignore", invalid="ignore"):
        return shape_ops.squeeze(_promoted(ew.div, c, norm_factor, true_divide=True))


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in the rows of ``input``: the
    covariance matrix normalised by the standard deviations, clipped to ``[-1, 1]``."""
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    c = cov(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.ndim == 0:
            return c / c  # NaN for a zero, NaN or infinite variance; 1 otherwise
        stddev = ew.sqrt(shape_more.diagonal(c))
        c = c / shape_ops.view(stddev, (-1, 1))
        c = c / shape_ops.view(stddev, (1, -1))
    return ew.clamp(c, -1, 1)


# ---------------------------------------------------------------------- diff, gradient


def _slice(x, axis, start, stop=None):
    return shape_ops.getitem(x, (slice(None),) * axis + (slice(start, stop),))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: ``out[i] = input[i + 1] - input[i]``,
    applied ``n`` times (exclusive or for bool tensors).

    ``prepend`` and ``append`` are joined to ``input`` along ``dim`` first; they must have
    its number of dimensions and its sizes in the other dimensions.
    """
    if input.ndim < 1:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for name, other in (("prepend", prepend), ("append", append)):
        if other is None:
            continue
        if not isinstance(other, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                            f"{type(other).__name__}")
        if other.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        axis = normalize_dims(dim, input.ndim)[0]
        for i in range(other.ndim):
            if i != axis and other.shape[i] != input.shape[i]:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to "
                                   f"match that of input except along the differencing "
                                   f"dimension; input.size({i}) = {input.shape[i]}, but got "
                                   f"tensor.size({i}) = {other.shape[i]}")
    axis = normalize_dims(dim, input.ndim)[0]
    if n == 0:
        out = Tensor._wrap(np.zeros_like(input._data))
        return inplace.copy_(out, input)
    x = input
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, input, append) if t is not None]
        x = shape_ops.cat(parts, axis)
    for _ in range(builtins.min(n, x.shape[axis])):
        length = x.shape[axis] - 1
        later, earlier = _slice(x, axis, 1, 1 + length), _slice(x, axis, 0, length)
        x = (ew.logical_xor(later, earlier) if x._data.dtype == np.bool_
             else ew.sub(later, earlier))
    return x


def _gradient_dims(input, dim):
    if dim is None:
        return list(range(input.ndim)), False
    if isinstance(dim, (int, np.integer)):
        return [normalize_dims(dim, input.ndim)[0]], False
    dims = [int(d) for d in dim]
    _check_unique(dims, input.ndim)
    return [normalize_dims(d, input.ndim)[0] for d in dims], True


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimate the gradient of a function sampled in ``input``, one tensor per dimension in
    ``dim`` (all of them when None), with central differences inside and one-sided ones of
    order ``edge_order`` (1 or 2) at the boundaries.

    ``spacing`` is a number (the same step everywhere), a list of numbers (one step per
    dimension) or a list of 1-D coordinate tensors (the sample points along each dimension).
    """
    if input._data.dtype == np.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    dims, dims_given_as_list = _gradient_dims(input, dim)
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        spacing = spacing.item()
    if isinstance(spacing, Tensor):
        raise TypeError("gradient(): spacing must be a number, a list of numbers or a list of "
                        "1-D coordinate tensors, not a tensor with dimensions; wrap it in a list")
    per_dim = isinstance(spacing, (list, tuple))
    if per_dim:
        if dim is None and len(spacing) != input.ndim:
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a "
                               f"list of length equal to 'self.dim() = {input.ndim}', since dim "
                               f"argument was not given, but got a list of length {len(spacing)}")
        if dim is not None and len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but got "
                               f"a spacing argument of length {len(spacing)} and a dim argument "
                               f"of length {len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    steps = list(spacing) if per_dim else [spacing] * len(dims)
    if per_dim and any(isinstance(s, Tensor) for s in steps):
        return tuple(_gradient_coordinates(input, d, c, edge_order) for d, c in zip(dims, steps))
    return tuple(_gradient_uniform(input, d, h, edge_order) for d, h in zip(dims, steps))


def _gradient_uniform(x, axis, h, edge_order):
    center = (_slice(x, axis, 2) - _slice(x, axis, 0, -2)) / h
    if edge_order == 1:
        first = (_slice(x, axis, 1, 2) - _slice(x, axis, 0, 1)) / h
        last = (_slice(x, axis, -1) - _slice(x, axis, -2, -1)) / h
    else:
        first = (-1.5 * _slice(x, axis, 0, 1) + 2 * _slice(x, axis, 1, 2)
                 - 0.5 * _slice(x, axis, 2, 3)) / h
        last = (0.5 * _slice(x, axis, -3, -2) - 2 * _slice(x, axis, -2, -1)
                + 1.5 * _slice(x, axis, -1)) / h
    return shape_ops.cat([first, center / 2, last], axis)


def _gradient_coordinates(x, axis, coords, edge_order):
    if not isinstance(coords, Tensor) or coords.ndim != 1:
        ndim = coords.ndim if isinstance(coords, Tensor) else 0
        raise RuntimeError(f"torch.gradient expected each element of spacing to have one "
                           f"dimension, but got an element with {ndim} dimensions!")
    if coords.shape[0] != x.shape[axis]:
        raise RuntimeError(f"torch.gradient expected the coordinates along dimension {axis} to "
                           f"have one entry per sample ({x.shape[axis]}), but got "
                           f"{coords.shape[0]}")
    shape = [1] * x.ndim
    shape[axis] = -1
    dx = diff(coords)
    dx1, dx2 = dx[:-1], dx[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = shape_ops.reshape(-dx2 / (dx1 * (dx1 + dx2)), shape)
        b = shape_ops.reshape((dx2 - dx1) / (dx1 * dx2), shape)
        c = shape_ops.reshape(dx1 / (dx2 * (dx1 + dx2)), shape)
        center = (a * _slice(x, axis, 0, -2) + b * _slice(x, axis, 1, -1)
                  + c * _slice(x, axis, 2))
        if edge_order == 1:
            first = (_slice(x, axis, 1, 2) - _slice(x, axis, 0, 1)) / dx[0]
            last = (_slice(x, axis, -1) - _slice(x, axis, -2, -1)) / dx[-1]
        else:
            h0, h1 = dx[0], dx[1]
            a = -(2.0 * h0 + h1) / (h0 * (h0 + h1))
            b = (h0 + h1) / (h0 * h1)
            c = -h0 / (h1 * (h0 + h1))
            first = (a * _slice(x, axis, 0, 1) + b * _slice(x, axis, 1, 2)
                     + c * _slice(x, axis, 2, 3))
            h0, h1 = dx[-1], dx[-2]
            a = h0 / (h1 * (h0 + h1))
            b = -(h0 + h1) / (h0 * h1)
            c = (2 * h0 + h1) / (h0 * (h0 + h1))
            last = (a * _slice(x, axis, -3, -2) + b * _slice(x, axis, -2, -1)
                    + c * _slice(x, axis, -1))
    return shape_ops.cat([first, center, last], axis)


# ----------------------------------------------------------------- elementwise ops


def _nan_to_num_forward(x, nan, posinf, neginf):
    if x.dtype.kind != "f":
        return x.copy()
    return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_grad(xp, g, out, x, **params):
    return xp.where(np.isfinite(_array(x)), g, 0.0)


NAN_TO_NUM = defop("NanToNumBackward0", _nan_to_num_forward, (_nan_to_num_grad,),
                   jvp="elementwise")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN with ``nan``, inf with ``posinf`` and -inf with ``neginf`` (by default the
    largest and the lowest finite value of the dtype). The gradient passes where the input is
    finite."""
    return apply(NAN_TO_NUM, input, nan=nan, posinf=posinf, neginf=neginf)


def _heaviside_forward(x, values):
    return np.where(x == 0, values, x > 0).astype(np.result_type(x, values))


HEAVISIDE = defop("NotImplemented", _heaviside_forward,
                  (_not_differentiable("heaviside"), _not_differentiable("heaviside")),
                  save_inputs=False, broadcast=True)


def heaviside(input, values):
    """The Heaviside step function: 0 where ``input < 0``, ``values`` where it is 0 and 1
    where it is positive (0 for NaN). It has no derivative."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    _broadcast_shape(input.shape, values.shape)
    return apply(HEAVISIDE, input, values)


def signbit(input):
    """True where the sign bit is set (negative numbers, -0.0 and NaN with the bit set)."""
    data = input._data
    return Tensor._wrap(np.signbit(data) if data.dtype.kind == "f" else data < 0)


def _copysign_forward(x, y):
    dtype = _float_result_dtype(x, y)
    y = y.astype(dtype) if isinstance(y, np.ndarray) else y
    return np.copysign(x.astype(dtype, copy=False), y)


def _copysign_grad(xp, g, out, x, y):
    # d/dx |x| sign(y) = result / x, taken as 0 at x == 0 (as PyTorch).
    zero = _array(x) == 0
    return xp.where(zero, 0.0, g * out / xp.where(zero, 1.0, x))


COPYSIGN = defop("CopysignBackward0", _copysign_forward, (_copysign_grad, _zero_grad),
                 save_output=True, broadcast=True, jvp="elementwise", needs=((0,), ()),
                 saved=("self", None))
COPYSIGN_SCALAR = defop("CopysignBackward1", _copysign_forward, (_copysign_grad, None),
                        save_output=True, broadcast=True, jvp="elementwise",
                        saved=("self", None), scalar_args=True)


def copysign(input, other):
    """``|input|`` with the sign of ``other`` (a tensor or a number), as a floating point
    tensor. The gradient reaches ``input`` only."""
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}); input must be a "
                        f"Tensor")
    if isinstance(other, Tensor):
        _broadcast_shape(input.shape, other.shape)
        return apply(COPYSIGN, input, other)
    return apply(COPYSIGN_SCALAR, input, other)


def _nextafter_forward(x, y):
    dtype = np.result_type(x, y)
    return np.nextafter(x.astype(dtype, copy=False), y.astype(dtype, copy=False))


NEXTAFTER = defop("NextafterBackward0", _nextafter_forward, (_identity_grad, _zero_grad),
                  save_inputs=False, broadcast=True, jvp="elementwise")


def nextafter(input, other):
    """The next representable floating point value after ``input`` towards ``other``."""
    if not isinstance(other, Tensor):
        raise TypeError(f"nextafter(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    dtype = _result_dtype(input, other)
    if dtype.kind != "f":
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for "
                                  f"'{_scalar_type(dtype)}'")
    _broadcast_shape(input.shape, other.shape)
    return apply(NEXTAFTER, _as_dtype(input, dtype), _as_dtype(other, dtype))


def _fmod_forward(x, y):
    return np.fmod(x, y)


def _fmod_grad_other(xp, g, out, x, y):
    # d/dy (x - y * trunc(x / y)) = -trunc(x / y); the trunc has no gradient, so it is taken
    # on the values even under create_graph.
    with np.errstate(divide="ignore", invalid="ignore"):
        return -g * np.trunc(_array(x) / _array(y))


FMOD_SCALAR = defop("FmodBackward0", _fmod_forward, (_identity_grad, None), save_inputs=False,
                    broadcast=True, jvp="elementwise")
FMOD = defop("FmodBackward1", _fmod_forward, (_identity_grad, _fmod_grad_other), broadcast=True,
             jvp="elementwise", needs=((), (0, 1)))


def fmod(input, other):
    """The C-style remainder ``input - trunc(input / other) * other``: it has the sign of
    ``input`` (:func:`remainder` has the sign of ``other``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}); input must be a "
                        f"Tensor")
    dtype = _result_dtype(input, other)
    if dtype.kind in "biu" and not np.all(_array(other)):
        raise RuntimeError("ZeroDivisionError")
    if isinstance(other, Tensor):
        _broadcast_shape(input.shape, other.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return apply(FMOD, _as_dtype(input, dtype), _as_dtype(other, dtype))
    with np.errstate(divide="ignore", invalid="ignore"):
        return apply(FMOD_SCALAR, _as_dtype(input, dtype), other)


def float_power(input, exponent):
    """``input ** exponent`` computed in double precision: the result is always float64."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected at least one of input and exponent to be a "
                        "Tensor")
    base = _as_dtype(input, np.float64) if isinstance(input, Tensor) else float(input)
    if isinstance(exponent, Tensor):
        exponent = _as_dtype(exponent, np.float64)
    else:
        exponent = float(exponent)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return ew.pow(base, exponent)


def _logit_bounds(eps):
    return None if eps is None or eps < 0 else (eps, 1 - eps)


def _logit_forward(x, eps):
    bounds = _logit_bounds(eps)
    if bounds is not None:
        kind = x.dtype.type
        low, high = kind(bounds[0]), kind(bounds[1])
        x = np.where(x < low, low, np.where(x > high, high, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x / (1 - x))


def _logit_grad(xp, g, out, x, eps):
    # g / (x (1 - x)); outside [eps, 1 - eps] it is 0, and without eps NaN outside [0, 1].
    bounds = _logit_bounds(eps)
    raw = _array(x)
    if bounds is None:
        outside, fill = (raw < 0) | (raw > 1), np.nan
    else:
        outside, fill = (raw < bounds[0]) | (raw > bounds[1]), 0.0
    denominator = xp.where(outside, 1.0, x * (1 - x))
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(outside, fill, g / denominator)


LOGIT = defop("LogitBackward0", _logit_forward, (_logit_grad,), jvp="elementwise",
              saved_params=("eps",), scalar_args=True)


def _as_float(input):
    """Integer and bool tensors as the default float dtype (what PyTorch's float ops do)."""
    if input._data.dtype.kind != "f":
        return shape_ops.cast(input, _default_float())
    return input


def logit(input, eps=None):
    """``log(p / (1 - p))``, the inverse of the sigmoid. With ``eps``, ``p`` is first clamped
    to ``[eps, 1 - eps]`` (and the gradient is 0 outside)."""
    return apply(LOGIT, _as_float(input), eps=eps)


_DEG_TO_RAD = math.pi / 180
_RAD_TO_DEG = 180 / math.pi


def _deg2rad_forward(x):
    return x * _DEG_TO_RAD


def _rad2deg_forward(x):
    return x * _RAD_TO_DEG


def _deg2rad_grad(xp, g, out, x):
    return g * _DEG_TO_RAD


def _rad2deg_grad(xp, g, out, x):
    return g * _RAD_TO_DEG


DEG2RAD = defop("Deg2RadBackward0", _deg2rad_forward, (_deg2rad_grad,), save_inputs=False,
                jvp="elementwise")
RAD2DEG = defop("Rad2DegBackward0", _rad2deg_forward, (_rad2deg_grad,), save_inputs=False,
                jvp="elementwise")


def deg2rad(input):
    """Convert angles from degrees to radians."""
    return apply(DEG2RAD, _as_float(input))


def rad2deg(input):
    """Convert angles from radians to degrees."""
    return apply(RAD2DEG, _as_float(input))


# -------------------------------------------------------------------------- renorm


def _other_axes(ndim, dim):
    return tuple(i for i in range(ndim) if i != dim)


def _vector_norm(x, axes, p):
    if p == 2:
        return reduce._norm2_forward(x, axes, True)
    return reduce._norm_p_forward(x, axes, True, p)


def _renorm_forward(x, p, dim, maxnorm):
    norm = _vector_norm(x, _other_axes(x.ndim, dim), p)
    kind = x.dtype.type
    limit = kind(maxnorm)
    factor = np.where(norm > limit, limit / (norm + kind(1e-7)), kind(1))
    return x * factor


def _renorm_grad(xp, g, out, x, p, dim, maxnorm):
    axes = _other_axes(x.ndim, dim)
    if p == 2:
        norm = call_op(xp, reduce.NORM2, x, axes=axes, keepdim=True)
        slope = reduce._norm2_grad(xp, xp.sum(x * g, axis=axes, keepdims=True), norm, x, axes,
                                   True)
    else:
        norm = call_op(xp, reduce.NORM_P, x, axes=axes, keepdim=True, p=p)
        slope = reduce._norm_p_grad(xp, xp.sum(x * g, axis=axes, keepdims=True), norm, x, axes,
                                    True, p)
    inverse = 1 / (norm + 1e-7)
    factor = inverse * maxnorm
    return xp.where(_array(norm) > maxnorm, factor * g - factor * inverse * slope, g)


RENORM = defop("RenormBackward0", _renorm_forward, (_renorm_grad,),
               saved_params=("p", "dim", "maxnorm"), scalar_args=True)


def renorm(input, p, dim, maxnorm):
    """Rescale each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` to
    norm ``maxnorm`` (exactly: by ``maxnorm / (norm + 1e-7)``); the others are unchanged."""
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           f"dimensions")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_scalar_type(input._data.dtype)}")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {_fmt(float(maxnorm))}")
    axis = normalize_dims(dim, input.ndim)[0]
    return apply(RENORM, input, p=p, dim=axis, maxnorm=maxnorm)


# -------------------------------------------------------------------------- logdet


def logdet(input):
    """``log(det(A))`` of each square matrix: NaN where the determinant is negative, -inf
    where it is zero."""
    data = input._data
    if data.ndim < 2:
        raise RuntimeError("logdet: The input tensor A must have at least 2 dimensions.")
    if data.shape[-1] != data.shape[-2]:
        raise RuntimeError(f"logdet: A must be batches of square matrices, but they are "
                           f"{data.shape[-2]} by {data.shape[-1]} matrices")
    if data.dtype.kind != "f":
        raise RuntimeError(f"logdet: Expected a floating point or complex tensor as input. Got "
                           f"{_scalar_type(data.dtype)}")
    sign, logabsdet = linalg_more.slogdet(input)
    return ew.where(sign._data < 0, np.nan, logabsdet)


# --------------------------------------------------------------------------- cdist


def _pnorm_last(diff, p):
    """The ``p``-norm over the last axis (``p = 0`` counts the non-zero entries)."""
    if diff.shape[-1] == 0:
        return np.zeros(diff.shape[:-1], diff.dtype)
    a = np.abs(diff)
    if p == 0:
        return np.count_nonzero(a, axis=-1).astype(diff.dtype)
    if p == 1:
        return a.sum(-1)
    if p == 2:
        return np.sqrt((a * a).sum(-1))
    if p == math.inf:
        return a.max(-1)
    return (a ** p).sum(-1) ** (1 / p)


def _cdist_forward(x1, x2, p):
    return _pnorm_last(x1[..., :, None, :] - x2[..., None, :, :], p)


def _cdist_pair_grads(xp, g, out, x1, x2, p):
    """Per pair ``(i, j)``, the gradient of ``g[i, j] * dist(x1[i], x2[j])`` wrt ``x1[i]``:
    PyTorch's formulas, 0 where the distance is 0."""
    diff = xp.expand_dims(x1, -2) - xp.expand_dims(x2, -3)
    raw_diff = _array(diff)
    if p == 0:
        return xp.zeros(raw_diff.shape, dtype=raw_diff.dtype)
    g = xp.expand_dims(g, -1)
    sign = xp.sign(diff)
    if p == 1:
        return g * sign
    dist, raw_dist = xp.expand_dims(out, -1), _array(out)[..., None]
    if p == math.inf:  # every coordinate that attains the maximum gets the whole gradient
        return g * sign * (np.abs(raw_diff) == raw_dist)
    zero = raw_dist == 0
    safe_dist = xp.where(zero, 1.0, dist)
    if p == 2:
        return xp.where(zero, 0.0, g * diff / safe_dist)
    if p < 2:
        blocked = zero | ((raw_diff == 0) & (p < 1))
        safe_abs = xp.where(raw_diff == 0, 1.0, diff * sign)
        return xp.where(blocked, 0.0, sign * safe_abs ** (p - 1) * g / safe_dist ** (p - 1))
    return xp.where(zero, 0.0, diff * (diff * sign) ** (p - 2) * g / safe_dist ** (p - 1))


def _cdist_grads(xp, g, out, needs, x1, x2, p):
    pair = _cdist_pair_grads(xp, g, out, x1, x2, p)
    grad_x1 = unbroadcast(xp, xp.sum(pair, axis=-2), x1.shape) if needs[0] else None
    grad_x2 = unbroadcast(xp, -xp.sum(pair, axis=-3), x2.shape) if needs[1] else None
    return [grad_x1, grad_x2]


def _euclid_forward(x1, x2):
    """PyTorch's matrix-product form: ``|a|² - 2 a·b + |b|²`` in one product, clamped at 0.
    Faster for many points, less accurate for close ones (as in PyTorch)."""
    n1 = (x1 * x1).sum(-1, keepdims=True)
    n2 = (x2 * x2).sum(-1, keepdims=True)
    a = np.concatenate([-2 * x1, n1, np.ones_like(n1)], -1)
    b = np.concatenate([x2, np.ones_like(n2), n2], -1)
    squared = np.matmul(a, np.swapaxes(b, -1, -2))
    return np.sqrt(np.maximum(squared, 0, out=squared))


def _euclid_grads(xp, g, out, needs, x1, x2):
    zero = _array(out) == 0
    ratio = xp.where(zero, 0.0, g / xp.where(zero, 1.0, out))
    grad_x1 = grad_x2 = None
    if needs[0]:
        grad_x1 = x1 * xp.sum(ratio, axis=-1, keepdims=True) - xp.matmul(ratio, x2)
    if needs[1]:
        grad_x2 = (x2 * xp.expand_dims(xp.sum(ratio, axis=-2), -1)
                   - xp.matmul(xp.swapaxes(ratio, -1, -2), x1))
    return [grad_x1, grad_x2]


CDIST = defop("CdistBackward0", _cdist_forward, _cdist_grads, save_output=True,
              saved=("x1", "x2"), saved_params=("p",), scalar_args=True)
EUCLIDEAN_DIST = defop("EuclideanDistBackward0", _euclid_forward, _euclid_grads,
                       save_output=True, saved=("x1", "x2"))

_CDIST_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distances between each row of ``x1`` (``(..., P, M)``) and each row of
    ``x2`` (``(..., R, M)``), a ``(..., P, R)`` tensor; batch dims broadcast.

    For ``p=2`` with more than 25 rows on either side (or ``compute_mode=
    'use_mm_for_euclid_dist'``) the distances come from one matrix product, as in PyTorch:
    faster, less accurate for nearby points. The gradient is 0 where a distance is 0.
    """
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    a, b = x1._data, x2._data
    for name, t in (("X1", a), ("X2", b)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    for name, t in (("X1", a), ("X2", b)):
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_scalar_type(t.dtype)}")
        if t.dtype == np.float16:
            raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type(a.dtype)} but found "
                           f"{_scalar_type(b.dtype)}")
    batch = _broadcast_shape(a.shape[:-2], b.shape[:-2])
    rows1, rows2, cols = a.shape[-2], b.shape[-2], a.shape[-1]
    mode = _CDIST_MODES[compute_mode]
    if (p == 2 and a.size and b.size
            and (mode == 1 or (mode == 0 and (rows1 > 25 or rows2 > 25)))):
        n = math.prod(batch)
        e1 = shape_ops.reshape(shape_ops.expand(x1, *batch, rows1, cols), (n, rows1, cols))
        e2 = shape_ops.reshape(shape_ops.expand(x2, *batch, rows2, cols), (n, rows2, cols))
        return shape_ops.reshape(apply(EUCLIDEAN_DIST, e1, e2), (*batch, rows1, rows2))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return apply(CDIST, x1, x2, p=float(p))


# -------------------------------------------------------------------------- vander


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: column ``j`` is ``x ** (N - 1 - j)`` (``x **
    j`` with ``increasing=True``), ``N`` columns (``len(x)`` by default). Integer and bool
    inputs give int64."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    columns = x.shape[0] if N is None else int(N)
    if columns < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = x._data.dtype if x._data.dtype.kind == "f" else np.dtype(np.int64)
    result = Tensor._wrap(np.ones((x.shape[0], columns), dtype))
    if columns > 1:
        base = shape_ops.expand(shape_ops.unsqueeze(_as_dtype(x, dtype), 1), x.shape[0],
                                columns - 1)
        inplace.setitem_(result, (slice(None), slice(1, None)), cumprod(base, 1))
    return result if increasing else shape_more.flip(result, [1])


# -------------------------------------------------------------------------- in place


def _in_place(t, op, operands, *args, **kwargs):
    """``t = op(t, *args, **kwargs)`` in place, recorded as ``op`` (``x.logit_()`` has
    ``LogitBackward0``) when ``t`` or one of the tensor ``operands`` needs a gradient."""
    if inplace._records(t, None) or any(inplace._records(t, o) for o in operands
                                        if isinstance(o, Tensor)):
        return inplace._rebase(t, op, *args, **kwargs)
    inplace._untracked(t)
    result = op(Tensor._wrap(t._data), *args, **kwargs)._data
    if not np.can_cast(result.dtype, t._data.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {_scalar_type(result.dtype)} can't be cast to the "
                           f"desired output type {_scalar_type(t._data.dtype)}")
    np.copyto(t._data, result, casting="same_kind")
    t._bump_version()
    return t


def _check_product_shape(t, shape):
    if tuple(t.shape) != tuple(shape):
        raise RuntimeError(f"Bad in-place call: input tensor size {list(t.shape)} and output "
                           f"tensor size {list(shape)} should match")


def _check_broadcast_into(t, other):
    shape = _broadcast_shape(t.shape, np.shape(_array(other)))
    if shape != tuple(t.shape):
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")


def _bound(op, **kwargs):
    """``op`` with its keyword arguments bound: ``call(old, *args)`` as the in-place calls
    need it."""
    def call(old, *args):
        return op(old, *args, **kwargs)
    return call


def addmm_(input, mat1, mat2, *, beta=1, alpha=1):
    """:func:`addmm` in place: ``input`` must have the product's shape."""
    _check_product_shape(input, (mat1.shape[0], mat2.shape[-1]))
    return _in_place(input, _bound(addmm, beta=beta, alpha=alpha), (mat1, mat2), mat1,
                     mat2)


def addbmm_(input, batch1, batch2, *, beta=1, alpha=1):
    """:func:`addbmm` in place."""
    _check_product_shape(input, (batch1.shape[-2], batch2.shape[-1]))
    return _in_place(input, _bound(addbmm, beta=beta, alpha=alpha), (batch1, batch2),
                     batch1, batch2)


def baddbmm_(input, batch1, batch2, *, beta=1, alpha=1):
    """:func:`baddbmm` in place."""
    _check_product_shape(input, (batch1.shape[0], batch1.shape[-2], batch2.shape[-1]))
    return _in_place(input, _bound(baddbmm, beta=beta, alpha=alpha), (batch1, batch2),
                     batch1, batch2)


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    """:func:`addmv` in place."""
    _check_product_shape(input, mat.shape[:1])
    return _in_place(input, _bound(addmv, beta=beta, alpha=alpha), (mat, vec), mat, vec)


def addr_(input, vec1, vec2, *, beta=1, alpha=1):
    """:func:`addr` in place."""
    if tuple(input.shape) != (vec1.shape[0], vec2.shape[0]):
        raise RuntimeError(f"size mismatch, input: {list(input.shape)}, v1: {list(vec1.shape)}, "
                           f"v2: {list(vec2.shape)}")
    return _in_place(input, _bound(addr, beta=beta, alpha=alpha), (vec1, vec2), vec1,
                     vec2)


def nan_to_num_(input, nan=0.0, posinf=None, neginf=None):
    """:func:`nan_to_num` in place."""
    return _in_place(input, nan_to_num, (), nan=nan, posinf=posinf, neginf=neginf)


def renorm_(input, p, dim, maxnorm):
    """:func:`renorm` in place."""
    return _in_place(input, renorm, (), p, dim, maxnorm)


def heaviside_(input, values):
    """:func:`heaviside` in place."""
    _check_broadcast_into(input, values)
    return _in_place(input, heaviside, (values,), values)


def copysign_(input, other):
    """:func:`copysign` in place."""
    _check_broadcast_into(input, other)
    return _in_place(input, copysign, (other,), other)


def nextafter_(input, other):
    """:func:`nextafter` in place."""
    _check_broadcast_into(input, other)
    return _in_place(input, nextafter, (other,), other)


def fmod_(input, other):
    """:func:`fmod` in place."""
    _check_broadcast_into(input, other)
    return _in_place(input, fmod, (other,), other)


def float_power_(input, exponent):
    """:func:`float_power` in place: ``input`` must be float64."""
    if input._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{_scalar_type(input._data.dtype)} but the operation's result "
                           f"requires dtype Double")
    _check_broadcast_into(input, exponent)
    return _in_place(input, float_power, (exponent,), exponent)


def logit_(input, eps=None):
    """:func:`logit` in place."""
    return _in_place(input, logit, (), eps)


def deg2rad_(input):
    """:func:`deg2rad` in place."""
    return _in_place(input, deg2rad, ())


def rad2deg_(input):
    """:func:`rad2deg` in place."""
    return _in_place(input, rad2deg, ())
