"""The op families. Each module is a table of forward/VJP pairs plus the public functions.

This package's namespace is what ``Tensor`` methods and ``distgrad.<op>`` call.
"""

from . import elementwise, inplace, linalg, nn_ops, reduce, shape_ops
from .elementwise import (abs, add, allclose, clamp, clip, clone, cos, div, eq, equal, exp, ge,
                          gt, isnan, le, log, logical_and, logical_not, logical_or, lt, masked_fill,
                          maximum, minimum, mul, ne, neg, pow, relu, sigmoid, sign, sin, sqrt, sub,
                          tanh, where)
from .linalg import bmm, dot, matmul, mm
from .nn_ops import log_softmax, softmax
from .reduce import (all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod,
                     std, sum, var)
from .shape_ops import (cast, cat, chunk, expand, flatten, gather, getitem, index_select, permute,
                        repeat, reshape, split, squeeze, stack, transpose, unbind, unsqueeze, view)

__all__ = [
    "elementwise", "inplace", "linalg", "nn_ops", "reduce", "shape_ops",
    "abs", "add", "allclose", "clamp", "clip", "clone", "cos", "div", "eq", "equal", "exp", "ge",
    "gt", "isnan", "le", "log", "logical_and", "logical_not", "logical_or", "lt", "masked_fill",
    "maximum", "minimum", "mul", "ne", "neg", "pow", "relu", "sigmoid", "sign", "sin", "sqrt",
    "sub", "tanh", "where", "bmm", "dot", "matmul", "mm", "log_softmax", "softmax", "all", "amax",
    "amin", "any", "argmax", "argmin", "logsumexp", "max", "mean", "min", "norm", "prod", "std",
    "sum", "var", "cast", "cat", "chunk", "expand", "flatten", "gather", "getitem",
    "index_select", "permute", "repeat", "reshape", "split", "squeeze", "stack", "transpose",
    "unbind", "unsqueeze", "view",
]
