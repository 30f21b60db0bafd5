"""``einsum``: the forward is ``np.einsum``; each operand's gradient is another einsum.

The public function rewrites the equation into explicit single-letter subscripts: ``...`` is
spelled out with unused letters, the implicit output is made explicit, and size-1 dims that
broadcast are expanded first (by ``expand``, whose gradient sums them back). The op then
sees consistent letters only. For operand i, the gradient contracts the output gradient with
the other operands onto operand i's distinct letters; letters that only operand i has (summed
away in the forward) are broadcast back, and a letter repeated within operand i (a diagonal,
``"ii->i"``) is scattered back onto that diagonal.
"""

from __future__ import annotations

import string

import numpy as np

from .._tensor import Tensor
from ._nn_common import call_op
from ._registry import apply, defop
from .reduce import sum as _sum
from .shape_ops import expand, permute


def _unique(letters: str) -> str:
    return "".join(dict.fromkeys(letters))


def _einsum_forward(*xs, subs, out_sub):
    equation = ",".join(subs) + "->" + out_sub
    out = np.einsum(equation, *xs, optimize=len(xs) > 2)
    out = np.asarray(out)
    if any(isinstance(x, np.ndarray) and np.may_share_memory(out, x) for x in xs):
        out = out.copy()  # NumPy may return a view ("ij->ji"); PyTorch's result is its own
    return out


def _einsum_grad(xp, g, out, needs, *xs, subs, out_sub):
    grads = []
    for i, x in enumerate(xs):
        if not needs[i]:
            grads.append(None)
            continue
        letters = subs[i]
        distinct = _unique(letters)
        others = [j for j in range(len(xs)) if j != i]
        available = set(out_sub).union(*(subs[j] for j in others))
        kept = "".join(c for c in distinct if c in available)
        grad = call_op(xp, EINSUM, g, *(xs[j] for j in others),
                       subs=(out_sub, *(subs[j] for j in others)), out_sub=kept)
        sizes = {c: n for c, n in zip(letters, x.shape)}
        if kept != distinct:  # letters only operand i had: every position gets the gradient
            grad = xp.reshape(grad, tuple(sizes[c] if c in kept else 1 for c in distinct))
            grad = xp.broadcast_to(grad, tuple(sizes[c] for c in distinct))
        if distinct != letters:  # a repeated letter: back onto the diagonal, zeros elsewhere
            position = {c: k for k, c in enumerate(distinct)}
            index = tuple(np.arange(sizes[c]).reshape(
                [-1 if k == position[c] else 1 for k in range(len(distinct))]) for c in letters)
            grad = xp.index_add(x.shape, index, grad)
        grads.append(grad)
    return grads


def _einsum_jvp(tangents, out, *xs, subs, out_sub):
    total = None
    for i, t in enumerate(tangents):
        if t is not None:
            term = _einsum_forward(*xs[:i], t, *xs[i + 1:], subs=subs, out_sub=out_sub)
            total = term if total is None else total + term
    return total


# PyTorch's einsum is a composition (permute, bmm, view...); its node is most often a view.
EINSUM = defop("ViewBackward0", _einsum_forward, _einsum_grad, jvp=_einsum_jvp)
# One operand with a repeated letter: PyTorch takes a diagonal, then permutes.
EINSUM_DIAGONAL = defop("PermuteBackward0", _einsum_forward, _einsum_grad, jvp=_einsum_jvp)
EINSUM_DIAGONAL_SUM = defop("SumBackward1", _einsum_forward, _einsum_grad, jvp=_einsum_jvp)


def _parse(equation: str, operands) -> tuple:
    """``(input subscripts, output subscripts, per-letter sizes)`` with ``...`` spelled out."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeError(f"einsum(): {len(subs)} operands were specified in the equation "
                           f"but {len(operands)} were given")
    for part in subs + [rhs]:
        if any(c not in string.ascii_letters for c in part.replace("...", "")):
            raise RuntimeError(f"einsum(): invalid subscript in equation '{equation}': "
                               "subscripts must be letters (and '...')")
    unused = [c for c in string.ascii_letters if c not in equation]
    ellipsis_dims = []
    for s, x in zip(subs, operands):
        named = len(s.replace("...", ""))
        if "..." in s:
            ellipsis_dims.append(x.ndim - named)
            if x.ndim < named:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({named}) is more than the number of dimensions "
                                   f"({x.ndim}) for operand")
        elif named != x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({x.ndim}) for "
                               "operand and no ellipsis was given")
    width = max(ellipsis_dims, default=0)
    fill = "".join(unused[:width])
    subs = [s.replace("...", fill[width - (x.ndim - len(s) + 3):] if "..." in s else "")
            for s, x in zip(subs, operands)]
    if arrow:
        out_sub = rhs.replace("...", fill)
        if len(set(out_sub)) != len(out_sub):
            raise RuntimeError(f"einsum(): output subscript appears more than once in "
                               f"'{equation}'")
    else:
        counts = {}
        for c in "".join(subs):
            counts[c] = counts.get(c, 0) + 1
        out_sub = fill + "".join(sorted(c for c, n in counts.items()
                                        if n == 1 and c not in fill))
    sizes = {}
    for s, x in zip(subs, operands):
        for c, n in zip(s, x.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes: "
                                   f"subscript '{c}' has sizes {sizes[c]} and {n}")
    for c in out_sub:
        if c not in sizes:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                               "equation for any input operand")
    return subs, out_sub, sizes


def einsum(equation, *operands):
    """Sum of products over the subscripts of ``equation`` (NumPy/PyTorch notation, with
    ``...`` broadcasting and the implicit alphabetical output when ``->`` is left out).

    Example::

        >>> c = distgrad.einsum("bij,bjk->bik", a, b)  # batched matrix product
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in operands)
    subs, out_sub, sizes = _parse(equation, operands)
    broadcast = []
    for s, x in zip(subs, operands):
        shape = tuple(sizes[c] for c in s)
        if len(set(s)) != len(s) and any(
                n != x.shape[s.index(c)] for c, n in zip(s, x.shape)):
            raise RuntimeError(f"einsum(): subscript {s} is repeated for an operand but the "
                               f"sizes don't match, {list(x.shape)}")
        broadcast.append(expand(x, shape) if shape != tuple(x.shape) else x)
    if len(broadcast) == 1 and len(set(subs[0])) == len(subs[0]):
        # One operand, no diagonal: a sum over the dropped letters, then a permutation.
        (x,), (s,) = broadcast, subs
        dropped = tuple(k for k, c in enumerate(s) if c not in out_sub)
        left = "".join(c for c in s if c in out_sub)
        if dropped:
            x = _sum(x, dropped)
        if left != out_sub:
            x = permute(x, tuple(left.index(c) for c in out_sub))
        return x
    spec = EINSUM
    if len(broadcast) == 1:
        summed = any(c not in out_sub for c in subs[0])
        spec = EINSUM_DIAGONAL_SUM if summed else EINSUM_DIAGONAL
    return apply(spec, *broadcast, subs=tuple(subs), out_sub=out_sub)
