"""The special functions behind ``erf erfc erfinv lgamma digamma polygamma``: SciPy when it
is installed, and otherwise a pure-NumPy fallback (``_special_*``: exact per-element ``math``
calls for erf/erfc/lgamma, series and Newton steps for the rest)."""

from __future__ import annotations

import math

import numpy as np

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# SciPy is optional, and imported on first use: importing it costs a third of a second,
# which ``import distgrad`` should not pay for functions a script may never call.
_UNSET = object()
_scipy_special = _UNSET


def _scipy():
    """``scipy.special``, or None without SciPy (tests set ``_scipy_special`` to None)."""
    global _scipy_special
    if _scipy_special is _UNSET:
        try:
            from scipy import special
        except ImportError:  # pragma: no cover - exercised through the _special_* fallbacks
            special = None
        _scipy_special = special
    return _scipy_special


def _float(x):
    """``x`` as a float array: integers and bools compute in float64 (cast back by apply)."""
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _per_element(fn, x, overflow=np.inf):
    """``fn`` over every element of ``x`` in float64; a ValueError (a pole) gives ``overflow``."""
    def safe(v):
        try:
            return fn(v)
        except ValueError:
            return overflow if not math.isnan(v) else math.nan
        except OverflowError:
            return math.inf
    flat = [safe(float(v)) for v in np.asarray(x, dtype=np.float64).ravel()]
    return np.array(flat, dtype=np.float64).reshape(np.shape(x))


# ---------------------------------------------------------------- pure-NumPy fallbacks


def _special_erf(x):
    return _per_element(math.erf, x)


def _special_erfc(x):
    return _per_element(math.erfc, x)


def _special_lgamma(x):
    return _per_element(math.lgamma, x)


def _special_erfinv(y):
    """Inverse error function: Giles' single-precision approximation, then two Newton steps
    on ``erf`` (to float64 accuracy). ±1 give ±inf; outside [-1, 1] NaN."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
        small = w < 5.0
        ws = w - 2.5
        p = np.full_like(y, 2.81022636e-08)
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * ws
        wl = np.sqrt(np.where(small, 5.0, w)) - 3.0
        q = np.full_like(y, -0.000200214257)
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            q = c + q * wl
        x = np.where(small, p, q) * y
        for _ in range(3):  # Newton: erf(x) - y = 0, erf'(x) = 2/sqrt(pi) exp(-x^2)
            finite = np.isfinite(x)
            xf = np.where(finite, x, 0.0)
            # erf(x) - y, through erfc in the tails where erf(x) and y both near ±1 cancel
            tail = np.sign(y) * ((1.0 - np.abs(y)) - _special_erfc(np.abs(xf)))
            residual = np.where(np.abs(y) > 0.5, tail, _special_erf(xf) - y)
            step = residual / (_TWO_OVER_SQRT_PI * np.exp(-xf * xf))
            x = np.where(finite, x - step, x)
        x = np.where(np.abs(y) == 1.0, np.copysign(np.inf, y), x)
        return np.where(np.abs(y) > 1.0, np.nan, x)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _special_polygamma(n, x):
    """The n-th derivative of the digamma function (n = 0: digamma itself), by the upward
    recurrence to x >= 12 and the asymptotic series there; digamma reflects negative x."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if n == 0:
            reflect = x < 0.5
            xr = np.where(reflect, 1.0 - x, x)
            cot = np.where(reflect, math.pi / np.tan(math.pi * x), 0.0)
        else:
            xr, cot, reflect = x, 0.0, False
        acc = np.zeros_like(xr)
        factorial = math.factorial(n)
        sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
        z = xr.copy()
        while True:  # psi^(n)(z) = psi^(n)(z + 1) + (-1)^(n+1) n! / z^(n+1)
            low = np.isfinite(z) & (z < 12.0)
            if not low.any():
                break
            acc = acc + np.where(low, sign * factorial / z ** (n + 1), 0.0)
            z = np.where(low, z + 1.0, z)
        inv = 1.0 / z
        if n == 0:
            series = np.log(z) - 0.5 * inv
            for k, b in enumerate(_BERNOULLI, start=1):
                series = series - b / (2 * k) * inv ** (2 * k)
        else:
            # (-1)^(n+1) [ (n-1)!/z^n + n!/(2 z^(n+1)) + sum B_2k (2k+n-1)!/((2k)! z^(2k+n)) ]
            series = math.factorial(n - 1) * inv ** n + factorial * 0.5 * inv ** (n + 1)
            for k, b in enumerate(_BERNOULLI, start=1):
                series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) \
                    * inv ** (2 * k + n)
            series = sign * series
        out = acc + series
        if n == 0:
            out = np.where(reflect, out - cot, out)
            out = np.where((x <= 0) & (x == np.floor(x)), np.nan, out)
        else:
            out = np.where((x <= 0) & (x == np.floor(x)), np.inf, out)
        return np.where(np.isposinf(x), 0.0 if n else np.inf, out)


def special(name, x, *args):
    """``name`` (erf, erfc, erfinv, lgamma, polygamma) of ``x``, in ``x``'s float dtype."""
    x = _float(x)
    scipy_special = _scipy()
    if scipy_special is not None:
        fn = {"erf": scipy_special.erf, "erfc": scipy_special.erfc,
              "erfinv": scipy_special.erfinv, "lgamma": scipy_special.gammaln,
              "polygamma": lambda v, n: scipy_special.polygamma(n, v)}[name]
    else:
        fn = {"erf": _special_erf, "erfc": _special_erfc, "erfinv": _special_erfinv,
              "lgamma": _special_lgamma,
              "polygamma": lambda v, n: _special_polygamma(n, v)}[name]
    out = np.asarray(fn(x, *args))
    if name == "polygamma" and args[0] == 0:
        # digamma(±0) = ∓inf, as in PyTorch
        out = np.where(x == 0, np.copysign(np.inf, -x), out)
    elif name == "lgamma" and scipy_special is not None:
        # SciPy's gammaln gives inf for subnormal inputs (lgamma(x) = -log|x| there) and
        # -inf at -inf (lgamma(-inf) = inf, as in C and PyTorch).
        tiny = np.finfo(x.dtype).tiny
        with np.errstate(divide="ignore"):
            out = np.where(np.abs(x) < tiny, -np.log(np.abs(x)), out)
        out = np.where(np.isneginf(x), np.inf, out)
    return out.astype(x.dtype, copy=False)
