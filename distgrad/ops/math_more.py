"""More elementwise math: ``erf erfc erfinv lgamma digamma polygamma log1p expm1 log2 log10
exp2 tan sinh cosh asinh acosh atanh asin acos atan sinc reciprocal rsqrt``, the binary
``atan2 hypot logaddexp xlogy`` and the ternary ``lerp addcmul addcdiv``.

The special functions (``_special``) use SciPy when it is installed and a pure-NumPy fallback
otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ._nn_common import call_op
from ._registry import apply, apply1, apply2, defop
from ._special import _float, special

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2, _LN10 = math.log(2.0), math.log(10.0)

# ---------------------------------------------------------------------- unary ops


def _erf_grad(xp, g, out, x):
    return g * _TWO_OVER_SQRT_PI * xp.exp(-(x * x))


def _erfc_grad(xp, g, out, x):
    return -g * _TWO_OVER_SQRT_PI * xp.exp(-(x * x))


def _erfinv_grad(xp, g, out, x):
    return g * (0.5 * math.sqrt(math.pi)) * xp.exp(out * out)


def _lgamma_grad(xp, g, out, x):
    return g * call_op(xp, POLYGAMMA, x, n=0)


def _polygamma_grad(xp, g, out, x, n):
    return g * call_op(xp, POLYGAMMA, x, n=n + 1)


def _log1p_grad(xp, g, out, x):
    return g / (x + 1)


def _expm1_grad(xp, g, out, x):
    return g * (out + 1)


def _log2_grad(xp, g, out, x):
    return g / (x * _LN2)


def _log10_grad(xp, g, out, x):
    return g / (x * _LN10)


def _exp2_grad(xp, g, out, x):
    return g * out * _LN2


def _tan_grad(xp, g, out, x):
    return g * (1 + out * out)


def _sinh_grad(xp, g, out, x):
    return g * call_op(xp, COSH, x)


def _cosh_grad(xp, g, out, x):
    return g * call_op(xp, SINH, x)


def _asinh_grad(xp, g, out, x):
    return g / xp.sqrt(x * x + 1)


def _acosh_grad(xp, g, out, x):
    return g / xp.sqrt(x * x - 1)


def _atanh_grad(xp, g, out, x):
    return g / (1 - x * x)


def _asin_grad(xp, g, out, x):
    return g / xp.sqrt(1 - x * x)


def _acos_grad(xp, g, out, x):
    return -g / xp.sqrt(1 - x * x)


def _atan_grad(xp, g, out, x):
    return g / (1 + x * x)


def _sinc_forward(x):
    x = _float(x)
    return np.sinc(x).astype(x.dtype, copy=False)


def _sinc_grad(xp, g, out, x):
    # d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0.
    zero = x == 0
    safe = xp.where(zero, 1.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(zero, 0.0, g * (xp.cos(math.pi * safe) - call_op(xp, SINC, safe)) / safe)


def _reciprocal_forward(x):
    return np.reciprocal(_float(x))


def _reciprocal_grad(xp, g, out, x):
    return -g * out * out


def _rsqrt_forward(x):
    return 1.0 / np.sqrt(_float(x))


def _rsqrt_grad(xp, g, out, x):
    return -0.5 * g * out * out * out


def _ufunc(np_fn):
    def forward(x):
        return np_fn(x)
    forward.__name__ = np_fn.__name__
    return forward


def _special_forward(name):
    def forward(x, **params):
        return special(name, x, *params.values())
    forward.__name__ = name
    return forward


_EW = "elementwise"
ERF = defop("ErfBackward0", _special_forward("erf"), (_erf_grad,), jvp=_EW)
ERFC = defop("ErfcBackward0", _special_forward("erfc"), (_erfc_grad,), jvp=_EW)
ERFINV = defop("ErfinvBackward0", _special_forward("erfinv"), (_erfinv_grad,),
               save_inputs=False, save_output=True, jvp=_EW)
LGAMMA = defop("LgammaBackward0", _special_forward("lgamma"), (_lgamma_grad,), jvp=_EW)
POLYGAMMA = defop("PolygammaBackward0", _special_forward("polygamma"), (_polygamma_grad,),
                  jvp=_EW, saved_params=("n",))
DIGAMMA = defop("DigammaBackward0", _special_forward("polygamma"), (_polygamma_grad,), jvp=_EW)
LOG1P = defop("Log1PBackward0", np.log1p, (_log1p_grad,), jvp=_EW)
EXPM1 = defop("Expm1Backward0", np.expm1, (_expm1_grad,), save_inputs=False, save_output=True,
              jvp=_EW)
LOG2 = defop("Log2Backward0", np.log2, (_log2_grad,), jvp=_EW)
LOG10 = defop("Log10Backward0", np.log10, (_log10_grad,), jvp=_EW)
EXP2 = defop("Exp2Backward0", _ufunc(np.exp2), (_exp2_grad,), save_inputs=False,
             save_output=True, jvp=_EW)
TAN = defop("TanBackward0", np.tan, (_tan_grad,), save_inputs=False, save_output=True, jvp=_EW)
SINH = defop("SinhBackward0", np.sinh, (_sinh_grad,), jvp=_EW)
COSH = defop("CoshBackward0", np.cosh, (_cosh_grad,), jvp=_EW)
ASINH = defop("AsinhBackward0", np.arcsinh, (_asinh_grad,), jvp=_EW)
ACOSH = defop("AcoshBackward0", np.arccosh, (_acosh_grad,), jvp=_EW)
ATANH = defop("AtanhBackward0", np.arctanh, (_atanh_grad,), jvp=_EW)
ASIN = defop("AsinBackward0", np.arcsin, (_asin_grad,), jvp=_EW)
ACOS = defop("AcosBackward0", np.arccos, (_acos_grad,), jvp=_EW)
ATAN = defop("AtanBackward0", np.arctan, (_atan_grad,), jvp=_EW)
SINC = defop("SincBackward0", _sinc_forward, (_sinc_grad,), jvp=_EW)
RECIPROCAL = defop("ReciprocalBackward0", _reciprocal_forward, (_reciprocal_grad,),
                   save_inputs=False, save_output=True, jvp=_EW)
RSQRT = defop("RsqrtBackward0", _rsqrt_forward, (_rsqrt_grad,), save_inputs=False,
              save_output=True, jvp=_EW)

_UNARY = {"erf": ERF, "erfc": ERFC, "erfinv": ERFINV, "lgamma": LGAMMA, "log1p": LOG1P,
          "expm1": EXPM1, "log2": LOG2, "log10": LOG10, "exp2": EXP2, "tan": TAN, "sinh": SINH,
          "cosh": COSH, "asinh": ASINH, "acosh": ACOSH, "atanh": ATANH, "asin": ASIN,
          "acos": ACOS, "atan": ATAN, "sinc": SINC, "reciprocal": RECIPROCAL, "rsqrt": RSQRT}


def _unary(name, spec):
    def op(input):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return apply1(spec, input)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}``, differentiable (``{spec.name}``)."
    return op


erf, erfc, erfinv, lgamma, log1p, expm1, log2, log10, exp2, tan, sinh, cosh, asinh, acosh, \
    atanh, asin, acos, atan, sinc, reciprocal, rsqrt = (_unary(n, s) for n, s in _UNARY.items())
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def digamma(input):
    """The logarithmic derivative of the gamma function (``DigammaBackward0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return apply(DIGAMMA, input, n=0)


def polygamma(n, input):
    """The ``n``-th derivative of the digamma function."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    with np.errstate(divide="ignore", invalid="ignore"):
        return apply(DIGAMMA if n == 0 else POLYGAMMA, input, n=int(n))


# --------------------------------------------------------------------- binary ops


def _atan2_weight(xp, g, y, x):
    """``g / (x² + y²)``, and 0 at the origin (as PyTorch, whose gradient there is 0)."""
    d = x * x + y * y
    origin = d == 0
    return xp.where(origin, 0.0, g / xp.where(origin, 1.0, d))


def _atan2_grad_y(xp, g, out, y, x):
    return _atan2_weight(xp, g, y, x) * x


def _atan2_grad_x(xp, g, out, y, x):
    return -_atan2_weight(xp, g, y, x) * y


def _hypot_grad_x(xp, g, out, x, y):
    return g * x / out


def _hypot_grad_y(xp, g, out, x, y):
    return g * y / out


def _logaddexp_grad_x(xp, g, out, x, y):
    return g * xp.exp(x - out)


def _logaddexp_grad_y(xp, g, out, x, y):
    return g * xp.exp(y - out)


def _xlogy_forward(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.multiply(x, np.log(y))
    return np.where((np.asarray(x) == 0) & ~np.isnan(y), 0.0, out).astype(out.dtype, copy=False)


def _xlogy_grad_x(xp, g, out, x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where((x == 0) & (y <= 0), 0.0, g * xp.log(y))


def _xlogy_grad_y(xp, g, out, x, y):
    return g * x / y


ATAN2 = defop("Atan2Backward0", np.arctan2, (_atan2_grad_y, _atan2_grad_x), broadcast=True,
              jvp=_EW)
HYPOT = defop("HypotBackward0", np.hypot, (_hypot_grad_x, _hypot_grad_y), save_output=True,
              broadcast=True, jvp=_EW)
LOGADDEXP = defop("LogaddexpBackward0", np.logaddexp, (_logaddexp_grad_x, _logaddexp_grad_y),
                  save_output=True, broadcast=True, jvp=_EW)
XLOGY = defop("XlogyBackward0", _xlogy_forward, (_xlogy_grad_x, _xlogy_grad_y), broadcast=True,
              jvp=_EW)
XLOGY_NUMBER_SELF = defop("XlogyBackward1", _xlogy_forward, (None, _xlogy_grad_y),
                          broadcast=True, jvp=_EW, scalar_args=True)
XLOGY_NUMBER_OTHER = defop("XlogyBackward2", _xlogy_forward, (_xlogy_grad_x, None),
                           broadcast=True, jvp=_EW, scalar_args=True)


def atan2(input, other):
    """Elementwise ``atan(input / other)`` in the right quadrant."""
    return apply2(ATAN2, input, other)


arctan2 = atan2


def hypot(input, other):
    """Elementwise ``sqrt(input**2 + other**2)``."""
    return apply2(HYPOT, input, other)


def logaddexp(input, other):
    """Elementwise ``log(exp(input) + exp(other))``, without overflow."""
    return apply2(LOGADDEXP, input, other)


def xlogy(input, other):
    """Elementwise ``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    if not isinstance(input, Tensor):
        return apply2(XLOGY_NUMBER_SELF, input, other)
    if not isinstance(other, Tensor):
        return apply2(XLOGY_NUMBER_OTHER, input, other)
    return apply2(XLOGY, input, other)


# -------------------------------------------------------------------- ternary ops


def _lerp_forward(x, end, weight):
    diff = np.subtract(end, x)
    small = np.abs(weight) < 0.5  # PyTorch's two-sided formula, exact at both ends
    return np.where(small, x + weight * diff, end - diff * (1 - np.asarray(weight)))


def _lerp_grad_start(xp, g, out, x, end, weight):
    return g * (1 - weight)


def _lerp_grad_end(xp, g, out, x, end, weight):
    return g * weight


def _lerp_grad_weight(xp, g, out, x, end, weight):
    return g * (end - x)


def _addcmul_forward(x, t1, t2, value):
    return x + value * (t1 * t2)


def _addcmul_grad_x(xp, g, out, x, t1, t2, value):
    return g


def _addcmul_grad_t1(xp, g, out, x, t1, t2, value):
    return g * t2 * value


def _addcmul_grad_t2(xp, g, out, x, t1, t2, value):
    return g * t1 * value


def _addcdiv_forward(x, t1, t2, value):
    return x + value * (t1 / t2)


def _addcdiv_grad_t1(xp, g, out, x, t1, t2, value):
    return g * value / t2


def _addcdiv_grad_t2(xp, g, out, x, t1, t2, value):
    return -g * value * t1 / (t2 * t2)


LERP = defop("LerpBackward0", _lerp_forward, (_lerp_grad_start, _lerp_grad_end, None),
             broadcast=True, jvp=_EW, saved=("self", "end", "weight"), scalar_args=True)
LERP_TENSOR = defop("LerpBackward1", _lerp_forward,
                    (_lerp_grad_start, _lerp_grad_end, _lerp_grad_weight), broadcast=True,
                    jvp=_EW, saved=("self", "end", "weight"))
ADDCMUL = defop("AddcmulBackward0", _addcmul_forward,
                (_addcmul_grad_x, _addcmul_grad_t1, _addcmul_grad_t2), broadcast=True, jvp=_EW,
                saved=(None, "tensor1", "tensor2"), saved_params=("value",))
ADDCDIV = defop("AddcdivBackward0", _addcdiv_forward,
                (_addcmul_grad_x, _addcdiv_grad_t1, _addcdiv_grad_t2), broadcast=True, jvp=_EW,
                saved=(None, "tensor1", "tensor2"), saved_params=("value",))


def lerp(input, end, weight):
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    return apply(LERP_TENSOR if isinstance(weight, Tensor) else LERP, input, end, weight)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    return apply(ADDCMUL, input, tensor1, tensor2, value=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    return apply(ADDCDIV, input, tensor1, tensor2, value=value)
