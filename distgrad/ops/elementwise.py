"""Elementwise ops: arithmetic, unary math, activations, ``clamp``, ``where``, comparisons.

Each op is a forward on arrays and one named VJP per input (see ``_registry``). Binary ops
broadcast; their gradients are reduced back to each input's shape by the registry.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._registry import apply, apply1, apply2, defop

# --------------------------------------------------------------------------- binary


def _grad_identity(xp, g, out, x, y):
    return g


def _grad_negated(xp, g, out, x, y):
    return -g


def _mul_grad_x(xp, g, out, x, y):
    return g * y


def _mul_grad_y(xp, g, out, x, y):
    return g * x


def _div_grad_x(xp, g, out, x, y):
    return g / y


def _div_grad_y(xp, g, out, x, y):
    return -g * x / (y * y)


def _pow_grad_base(xp, g, out, x, y):
    # d/dx x**y = y * x**(y-1); at y == 0 the gradient is 0 even where x == 0.
    if isinstance(y, (int, float)):  # the common x ** number: no mask needed
        return g * 0.0 if y == 0 else g * y * x ** (y - 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # the masked-out y == 0 entries
        return xp.where(y == 0, 0.0, g * y * x ** (y - 1))


def _pow_grad_exponent(xp, g, out, x, y):
    # d/dy x**y = x**y * log(x), taken as 0 where x == 0 and y >= 0, as PyTorch does.
    safe_log = xp.log(xp.where(x == 0, 1.0, x))
    return g * out * safe_log if out is not None else g * x ** y * safe_log


def _maximum_grad_x(xp, g, out, x, y):
    return g * ((x > y) + (x == y) * 0.5)


def _maximum_grad_y(xp, g, out, x, y):
    return g * ((y > x) + (x == y) * 0.5)


def _minimum_grad_x(xp, g, out, x, y):
    return g * ((x < y) + (x == y) * 0.5)


def _minimum_grad_y(xp, g, out, x, y):
    return g * ((y < x) + (x == y) * 0.5)


_divide = np.true_divide
_BOOL = np.dtype(np.bool_)


def _subtract(x, y):
    # PyTorch refuses a bool operand (a Python bool too); NumPy would compute ``b - 1``.
    if (x.__class__ is bool or y.__class__ is bool or getattr(x, "dtype", None) is _BOOL
            or getattr(y, "dtype", None) is _BOOL):
        _check_not_bool_sub(x, y)
    return np.subtract(x, y)


def _reversed_subtract(x, y):
    return _subtract(y, x)


def _reversed_divide(x, y):
    return _divide(y, x)


def _rdiv_grad_x(xp, g, out, x, y):
    return -g * y / (x * x)


def _rdiv_grad_y(xp, g, out, x, y):
    return g / x


ADD = defop("AddBackward0", np.add, (_grad_identity, _grad_identity),
            save_inputs=False, broadcast=True, jvp="elementwise")
SUB = defop("SubBackward0", _subtract, (_grad_identity, _grad_negated),
            save_inputs=False, broadcast=True, jvp="elementwise")
# ``number - tensor`` and ``number / tensor`` record the tensor first, as PyTorch does (its
# ``3 / x`` is ``x.reciprocal() * 3``, hence the name).
RSUB = defop("RsubBackward1", _reversed_subtract, (_grad_negated, _grad_identity),
             save_inputs=False, broadcast=True, jvp="elementwise")
RDIV = defop("MulBackward0", _reversed_divide, (_rdiv_grad_x, _rdiv_grad_y), broadcast=True,
             jvp="elementwise", needs=((0, 1), (0,)), saved=(None, "other"))
MUL = defop("MulBackward0", np.multiply, (_mul_grad_x, _mul_grad_y), broadcast=True,
            jvp="elementwise", needs=((1,), (0,)))
DIV = defop("DivBackward0", np.true_divide, (_div_grad_x, _div_grad_y), broadcast=True,
            jvp="elementwise", needs=((1,), (0, 1)))
POW_SCALAR = defop("PowBackward0", np.power, (_pow_grad_base, None), broadcast=True,
                    jvp="elementwise", saved=("self", "exponent"), scalar_args=True)
POW_TENSOR = defop("PowBackward1", np.power, (_pow_grad_base, _pow_grad_exponent),
                   save_output=True, broadcast=True, jvp="elementwise",
                   saved=("self", "exponent"))
POW_NUMBER_BASE = defop("PowBackward2", np.power, (None, _pow_grad_exponent),
                        save_output=True, broadcast=True, jvp="elementwise",
                        saved=("self", "exponent"), scalar_args=True)  # number ** tensor
MAXIMUM = defop("MaximumBackward0", np.maximum, (_maximum_grad_x, _maximum_grad_y),
                broadcast=True, jvp="elementwise")
MINIMUM = defop("MinimumBackward0", np.minimum, (_minimum_grad_x, _minimum_grad_y),
                broadcast=True, jvp="elementwise")


def add(input, other, *, alpha=1):
    """Return ``input + alpha * other``, broadcasting."""
    return apply2(ADD, input, other if alpha == 1 else mul(other, alpha))


def sub(input, other, *, alpha=1):
    """Return ``input - alpha * other``, broadcasting."""
    _check_not_bool_sub(input, other)
    return apply2(SUB, input, other if alpha == 1 else mul(other, alpha))


def _is_bool(x):
    """A Python bool, or a bool tensor or array."""
    if isinstance(x, Tensor):
        x = x._data
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray)
                                               and x.dtype == np.bool_)


def _check_not_bool_sub(input, other):
    """Raise PyTorch's error for a subtraction with a bool operand (a Python bool counts, as
    PyTorch wraps it in a bool tensor)."""
    bools = _is_bool(input) + _is_bool(other)
    if bools == 2:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if bools:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def mul(input, other):
    """Return ``input * other``, broadcasting."""
    return apply2(MUL, input, other)


def div(input, other):
    """Return ``input / other`` (true division), broadcasting."""
    return apply2(DIV, input, other)


def pow(input, exponent):
    """Return ``input ** exponent``. A number exponent records ``PowBackward0``."""
    if isinstance(exponent, Tensor):
        return apply2(POW_TENSOR if isinstance(input, Tensor) else POW_NUMBER_BASE, input,
                      exponent)
    if isinstance(exponent, int) and isinstance(input, Tensor):
        if input._data.dtype.kind == "f":
            exponent = float(exponent)  # NumPy refuses negative integer powers of integers
        elif exponent < 0 and input._data.dtype.kind in "iu":
            raise RuntimeError("Integers to negative integer powers are not allowed. Convert "
                               "the base to floating point first, e.g. t.float() ** -1")
    return apply2(POW_SCALAR, input, exponent)


def maximum(input, other):
    """Elementwise maximum; at ties the gradient is split evenly."""
    return apply2(MAXIMUM, input, other)


def minimum(input, other):
    """Elementwise minimum; at ties the gradient is split evenly."""
    return apply2(MINIMUM, input, other)


# ---------------------------------------------------------------------------- unary


def _neg_grad(xp, g, out, x):
    return -g


def _exp_grad(xp, g, out, x):
    return g * out


def _log_grad(xp, g, out, x):
    return g / x


def _sqrt_grad(xp, g, out, x):
    return g / (2 * out)


def _abs_grad(xp, g, out, x):
    # The sign of x, but 0 (not NaN) at a NaN input, as in PyTorch. (Masks, not np.where:
    # where() with a scalar is several times slower than a multiply.)
    return g * (x > 0) - g * (x < 0)


def _sin_grad(xp, g, out, x):
    return g * xp.cos(x)


def _cos_grad(xp, g, out, x):
    return -g * xp.sin(x)


def _tanh_grad(xp, g, out, x):
    return g * (1 - out * out)


def _sigmoid_grad(xp, g, out, x):
    return g * out * (1 - out)


def _relu_grad(xp, g, out, x):
    # Blocked only where out <= 0, as in PyTorch; out = max(x, 0) is never negative, so that
    # is where out == 0, and a NaN passes its gradient. (A mask, not np.where: where() with
    # a scalar is several times slower than a multiply.)
    return g * (out != 0)


def _clone_grad(xp, g, out, x):
    return g


def _sigmoid_forward(x):
    # 1 / (1 + exp(-x)) in one buffer; exp may overflow to inf, which gives the right 0
    # (and PyTorch's values to a few ulp; 5x faster than splitting by sign).
    out = np.negative(x) if x.dtype.kind == "f" else -x.astype(np.float32)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _relu_forward(x):
    return np.maximum(x, 0) if x.dtype.kind != "f" else np.maximum(x, x.dtype.type(0))


def _no_bool_neg(x):
    """``on_type_error`` of negation: raise PyTorch's error for ``-b`` on a bool tensor."""
    if x.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


NEG = defop("NegBackward0", np.negative, (_neg_grad,), save_inputs=False, jvp="elementwise",
            on_type_error=_no_bool_neg)
EXP = defop("ExpBackward0", np.exp, (_exp_grad,), save_inputs=False, save_output=True,
             jvp="elementwise")
LOG = defop("LogBackward0", np.log, (_log_grad,), jvp="elementwise")
SQRT = defop("SqrtBackward0", np.sqrt, (_sqrt_grad,), save_inputs=False, save_output=True,
              jvp="elementwise")
ABS = defop("AbsBackward0", np.abs, (_abs_grad,), jvp="elementwise")
SIN = defop("SinBackward0", np.sin, (_sin_grad,), jvp="elementwise")
COS = defop("CosBackward0", np.cos, (_cos_grad,), jvp="elementwise")
TANH = defop("TanhBackward0", np.tanh, (_tanh_grad,), save_inputs=False, save_output=True,
              jvp="elementwise")
SIGMOID = defop("SigmoidBackward0", _sigmoid_forward, (_sigmoid_grad,), save_inputs=False,
                save_output=True, jvp="elementwise")
RELU = defop("ReluBackward0", _relu_forward, (_relu_grad,), save_inputs=False, save_output=True,
              jvp="elementwise")
CLONE = defop("CloneBackward0", np.copy, (_clone_grad,), save_inputs=False, jvp="elementwise")


def neg(input):
    """Return ``-input``."""
    return apply1(NEG, input)


def exp(input):
    """Return the elementwise exponential."""
    return apply1(EXP, input)


def log(input):
    """Return the elementwise natural logarithm."""
    return apply1(LOG, input)


def sqrt(input):
    """Return the elementwise square root."""
    return apply1(SQRT, input)


def abs(input):
    """Return the elementwise absolute value (gradient 0 at 0)."""
    return apply1(ABS, input)


def sin(input):
    return apply1(SIN, input)


def cos(input):
    return apply1(COS, input)


def tanh(input):
    """Return the elementwise hyperbolic tangent."""
    return apply1(TANH, input)


def sigmoid(input):
    """Return ``1 / (1 + exp(-input))``, computed without overflow."""
    return apply1(SIGMOID, input)


def relu(input):
    """Return ``max(input, 0)`` (gradient 0 at 0)."""
    return apply1(RELU, input)


def clone(input):
    """Return a copy of ``input`` that stays in the graph."""
    return apply1(CLONE, input)


# ------------------------------------------------------------- clamp, where, masked_fill


def _clamp_grad(xp, g, out, x, min, max):
    # The gradient passes where min <= x <= max, bounds included, as in PyTorch.
    inside = True
    if min is not None:
        inside = x >= min
    if max is not None:
        inside = (x <= max) if inside is True else inside * (x <= max)
    return g * inside


def _clamp_forward(x, min, max):
    return np.clip(x, min, max)


# Tensor bounds are inputs of their own: each receives the gradient where it is the result,
# as PyTorch's ClampBackward0 does: min where x is below it, max where x is above it or where
# max < min (then max wins). Where x is below min == max, no input gets the gradient.
def _clamp_tensor_forward(x, min, max):
    out = x if min is None else np.maximum(x, min)
    return out if max is None else np.minimum(out, max)


def _clamp_grad_min(xp, g, out, x, min, max):
    return g * ((x < min) if max is None else (x < min) & (min < max))


def _clamp_grad_max(xp, g, out, x, min, max):
    return g * ((x > max) if min is None else (x > max) | (max < min))


def _where_grad_x(xp, g, out, cond, x, y):
    return xp.where(cond, g, 0.0)


def _where_grad_y(xp, g, out, cond, x, y):
    return xp.where(cond, 0.0, g)


CLAMP = defop("ClampBackward1", _clamp_forward, (_clamp_grad,), jvp="elementwise",
              saved_params=("min", "max"))
CLAMP_TENSOR = defop("ClampBackward0", _clamp_tensor_forward,
                     (_clamp_grad, _clamp_grad_min, _clamp_grad_max), broadcast=True,
                     jvp="elementwise", saved=("self", "min", "max"))
WHERE = defop("WhereBackward0", np.where, (None, _where_grad_x, _where_grad_y),
              broadcast=True, jvp="elementwise", saved=("condition", None, None))


def clamp(input, min=None, max=None):
    """Clamp every element into ``[min, max]``; the gradient passes at the bounds.

    ``min`` and ``max`` are numbers or tensors (which broadcast, and receive the gradient
    where they are the result)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return apply(CLAMP_TENSOR, input, min, max)
    min = min._data if isinstance(min, Tensor) else min
    max = max._data if isinstance(max, Tensor) else max
    return apply(CLAMP, input, min=min, max=max)


clip = clamp


def where(condition, input, other):
    """Return elements of ``input`` where ``condition`` holds, else of ``other``."""
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}; compare first, e.g. cond != 0")
    return apply(WHERE, condition, input, other)


def masked_fill(input, mask, value):
    """Return ``input`` with ``value`` where ``mask`` is true."""
    return where(mask, value, input)


def _sign_grad(xp, g, out, x):
    return xp.zeros(g.shape, dtype=g.dtype)


SIGN = defop("SignBackward0", np.sign, (_sign_grad,), save_inputs=False, jvp="elementwise")


def sign(input):
    """Return the elementwise sign; its gradient is zero everywhere, as in PyTorch."""
    return apply(SIGN, input)


# ------------------------------------------------------------------ no-graph ops


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _compare(np_fn, input, other):
    return Tensor._wrap(np.asarray(np_fn(_array(input), _array(other))))


def eq(input, other):
    return _compare(np.equal, input, other)


def ne(input, other):
    return _compare(np.not_equal, input, other)


def lt(input, other):
    return _compare(np.less, input, other)


def le(input, other):
    return _compare(np.less_equal, input, other)


def gt(input, other):
    return _compare(np.greater, input, other)


def ge(input, other):
    return _compare(np.greater_equal, input, other)


def logical_and(input, other):
    return _compare(np.logical_and, input, other)


def logical_or(input, other):
    return _compare(np.logical_or, input, other)


def logical_not(input):
    return Tensor._wrap(np.logical_not(_array(input)))


def isnan(input):
    return Tensor._wrap(np.isnan(_array(input)))


def equal(input, other) -> bool:
    """True if both have the same shape and elements."""
    return bool(np.array_equal(_array(input), _array(other)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(_array(input), _array(other), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


# ----------------------------------------------------- rounding, division, clamp_min/max


def _zero_grad(xp, g, out, x, **params):
    return xp.zeros(g.shape, dtype=g.dtype)


def _identity_grad(xp, g, out, x):
    return g


def _rounding(np_fn):
    """A rounding forward: integers are already whole and keep their dtype."""
    def forward(x):
        return np_fn(x) if x.dtype.kind == "f" else x.copy()
    return forward


def _round_decimals_forward(x, decimals):
    return np.round(x, decimals) if x.dtype.kind == "f" else x.copy()


def _frac_forward(x):
    if x.dtype.kind != "f":
        raise RuntimeError(f"frac(): expected a floating point tensor, got {x.dtype}; convert "
                           "first, e.g. t.float().frac()")
    return x - np.trunc(x)


FLOOR = defop("FloorBackward0", _rounding(np.floor), (_zero_grad,), save_inputs=False,
              jvp="elementwise")
CEIL = defop("CeilBackward0", _rounding(np.ceil), (_zero_grad,), save_inputs=False,
             jvp="elementwise")
ROUND = defop("RoundBackward0", _rounding(np.round), (_zero_grad,), save_inputs=False,
              jvp="elementwise")
ROUND_DECIMALS = defop("RoundBackward1", _round_decimals_forward, (_zero_grad,),
                       save_inputs=False, jvp="elementwise")
TRUNC = defop("TruncBackward0", _rounding(np.trunc), (_zero_grad,), save_inputs=False,
              jvp="elementwise")
FRAC = defop("FracBackward0", _frac_forward, (_identity_grad,), save_inputs=False,
             jvp="elementwise")


def floor(input):
    """Round down to the nearest integer; the gradient is zero everywhere."""
    return apply1(FLOOR, input)


def ceil(input):
    """Round up to the nearest integer; the gradient is zero everywhere."""
    return apply1(CEIL, input)


def round(input, *, decimals=0):
    """Round to ``decimals`` decimal places, halves to even; the gradient is zero."""
    if decimals:
        return apply(ROUND_DECIMALS, input, decimals=decimals)
    return apply1(ROUND, input)


def trunc(input):
    """Round toward zero; the gradient is zero everywhere."""
    return apply1(TRUNC, input)


fix = trunc


def frac(input):
    """Return ``input - trunc(input)``; the gradient passes unchanged."""
    return apply1(FRAC, input)


def _not_differentiable(name):
    def vjp(xp, g, out, *inputs):
        raise RuntimeError(f"derivative for {name} is not implemented; detach() its inputs "
                           "if no gradient is needed through it")
    return vjp


def _remainder_grad_divisor(xp, g, out, x, y):
    # d/dy (x - y * floor(x / y)) = -floor(x / y); the floor itself has no gradient, so it
    # is taken on the values even under create_graph.
    x, y = _array(x), _array(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -g * np.floor(x / y)


FLOOR_DIVIDE = defop("NotImplemented", np.floor_divide,
                     (_not_differentiable("floor_divide"), _not_differentiable("floor_divide")),
                     save_inputs=False, broadcast=True)
REMAINDER_SCALAR = defop("RemainderBackward0", np.remainder, (_grad_identity, None),
                         save_inputs=False, broadcast=True, jvp="elementwise")
REMAINDER = defop("RemainderBackward1", np.remainder,
                  (_grad_identity, _remainder_grad_divisor), broadcast=True, jvp="elementwise",
                  needs=((), (0, 1)))
REMAINDER_NUMBER = defop("NotImplemented", np.remainder,
                         (None, _not_differentiable("remainder")), save_inputs=False,
                         broadcast=True)


def _check_integer_divisor(name, input, other):
    """Integer division by zero raises, as in PyTorch (NumPy would warn and give 0)."""
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    y = other._data if isinstance(other, Tensor) else np.asarray(other)
    if x.dtype.kind in "iub" and y.dtype.kind in "iub" and not np.all(y):
        raise RuntimeError(f"ZeroDivisionError: integer {name} by zero; divide floating point "
                           f"tensors (e.g. .float()) to get inf, or mask the zero divisors")


def floor_divide(input, other):
    """Return ``floor(input / other)`` (Python's ``//``); it has no derivative."""
    _check_integer_divisor("floor_divide", input, other)
    return apply2(FLOOR_DIVIDE, input, other)


def remainder(input, other):
    """Return ``input - other * floor(input / other)`` (Python's ``%``: the sign of ``other``)."""
    _check_integer_divisor("remainder", input, other)
    if not isinstance(input, Tensor):
        return apply2(REMAINDER_NUMBER, input, other)
    return apply2(REMAINDER if isinstance(other, Tensor) else REMAINDER_SCALAR, input, other)


def _clamp_min_grad(xp, g, out, x, min):
    return g * (x >= min)


def _clamp_max_grad(xp, g, out, x, max):
    return g * (x <= max)


def _clamp_min_grad_bound(xp, g, out, x, min):
    return g * (x < min)


def _clamp_max_grad_bound(xp, g, out, x, max):
    return g * (x > max)


def _clamp_min_forward(x, min):
    return np.maximum(x, min)


def _clamp_max_forward(x, max):
    return np.minimum(x, max)


CLAMP_MIN = defop("ClampMinBackward0", _clamp_min_forward, (_clamp_min_grad,),
                  jvp="elementwise", saved_params=("min",))
CLAMP_MAX = defop("ClampMaxBackward0", _clamp_max_forward, (_clamp_max_grad,),
                  jvp="elementwise", saved_params=("max",))
CLAMP_MIN_TENSOR = defop("ClampMinBackward1", np.maximum, (_clamp_min_grad,
                                                            _clamp_min_grad_bound),
                         broadcast=True, jvp="elementwise", saved=("self", "min"))
CLAMP_MAX_TENSOR = defop("ClampMaxBackward1", np.minimum, (_clamp_max_grad,
                                                            _clamp_max_grad_bound),
                         broadcast=True, jvp="elementwise", saved=("self", "max"))


def clamp_min(input, min):
    """Return ``max(input, min)``; the gradient passes where ``input >= min``, and a tensor
    ``min`` receives it elsewhere."""
    if isinstance(min, Tensor):
        return apply2(CLAMP_MIN_TENSOR, input, min)
    return apply(CLAMP_MIN, input, min=min)


def clamp_max(input, max):
    """Return ``min(input, max)``; the gradient passes where ``input <= max``, and a tensor
    ``max`` receives it elsewhere."""
    if isinstance(max, Tensor):
        return apply2(CLAMP_MAX_TENSOR, input, max)
    return apply(CLAMP_MAX, input, max=max)


def bitwise_xor(input, other):
    """Elementwise exclusive or of bool or integer tensors (no gradient)."""
    for x in (input, other):
        if isinstance(x, float) or (isinstance(x, Tensor) and x._data.dtype.kind not in "biu"):
            kind = "Float" if isinstance(x, float) or x._data.dtype.kind == "f" else str(x.dtype)
            raise NotImplementedError(f'"bitwise_xor_cpu" not implemented for \'{kind}\'; '
                                      'use logical_xor() for floats')
    return _compare(np.bitwise_xor, input, other)


def logical_xor(input, other):
    return _compare(np.logical_xor, input, other)
