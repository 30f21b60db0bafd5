"""Method forms of the ops (``t.sum()``, ``t.reshape(...)``...), inherited by ``Tensor``."""

from __future__ import annotations

import math

# Bound by _tensor.py once the op families have loaded (they import Tensor themselves):
_ops = None      # the ``distgrad.ops`` package


class TensorMethods:
    """Each method calls the op of the same name in ``distgrad.ops``."""

    __slots__ = ()

    # elementwise
    def add(self, other, alpha=1):
        return _ops.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return _ops.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other):
        return _ops.div(self, other)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def sign(self):
        return _ops.sign(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def square(self):
        return _ops.mul(self, self)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, *, decimals=0):
        return _ops.round(self, decimals=decimals)

    def trunc(self):
        return _ops.trunc(self)

    fix = trunc

    def frac(self):
        return _ops.frac(self)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def clamp_min(self, min):
        return _ops.clamp_min(self, min)

    def clamp_max(self, max):
        return _ops.clamp_max(self, max)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def bitwise_xor(self, other):
        return _ops.bitwise_xor(self, other)

    def logical_xor(self, other):
        return _ops.logical_xor(self, other)

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def prelu(self, weight):
        return _ops.activations.prelu(self, weight)

    # comparisons and logic (no graph)
    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    def isnan(self):
        return _ops.isnan(self)

    def equal(self, other) -> bool:
        return _ops.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08) -> bool:
        return _ops.allclose(self, other, rtol, atol)

    # reductions
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False):
        return _ops.prod(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def var(self, dim=None, keepdim=False, unbiased=True, correction=None):
        return _ops.var(self, dim, keepdim, unbiased=unbiased, correction=correction)

    def std(self, dim=None, keepdim=False, unbiased=True, correction=None):
        return _ops.std(self, dim, keepdim, unbiased=unbiased, correction=correction)

    def norm(self, p="fro", dim=None, keepdim=False):
        return _ops.norm(self, p, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def softmax(self, dim, dtype=None):
        return _ops.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return _ops.log_softmax(self, dim, dtype)

    # linear algebra
    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, other):
        return _ops.mm(self, other)

    def dot(self, other):
        return _ops.dot(self, other)

    # shape
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def view(self, *shape):
        return _ops.view(self, *shape)

    def view_as(self, other):
        return _ops.view(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    def t(self):
        return _ops.shape_ops.t(self)

    @property
    def T(self):
        return _ops.shape_ops.reverse_dims(self)

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        """Expand dim ``dim`` into ``sizes`` (one of them may be -1, inferred)."""
        ndim = self.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                             f"{ndim - 1}], but got {dim})")
        axis = dim % ndim
        sizes = tuple(int(n) for n in sizes)
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        if sizes.count(-1) > 1:
            raise RuntimeError("unflatten: only one dimension can be inferred")
        length = self.shape[axis]
        known = math.prod(n for n in sizes if n != -1)
        if -1 in sizes and known and length % known == 0:
            shape = tuple(length // known if n == -1 else n for n in sizes)
        elif -1 not in sizes and known == length:
            shape = sizes
        else:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                               f"size of dim {dim} ({length}) in the input tensor")
        return _ops.reshape(self, self.shape[:axis] + shape + self.shape[axis + 1:])

    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def split(self, split_size, dim=0):
        return _ops.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    def lu(self, pivot=True, get_infos=False):
        return _ops.linalg_extra.legacy_lu(self, pivot, get_infos)

    def lu_solve(self, LU_data, LU_pivots):
        return _ops.linalg_extra.legacy_lu_solve(self, LU_data, LU_pivots)

    def matrix_exp(self):
        return _ops.linalg_extra.matrix_exp(self)

    def orgqr(self, input2):
        return _ops.linalg_extra.householder_product(self, input2)

    def tensor_split(self, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                     tensor_indices_or_sections=None):
        return _ops.tensor_split(self, indices_or_sections, dim, sections=sections,
                                 indices=indices,
                                 tensor_indices_or_sections=tensor_indices_or_sections)

    def hsplit(self, indices_or_sections=None, *, sections=None, indices=None):
        return _ops.hsplit(self, indices_or_sections, sections=sections, indices=indices)

    def vsplit(self, indices_or_sections=None, *, sections=None, indices=None):
        return _ops.vsplit(self, indices_or_sections, sections=sections, indices=indices)

    def dsplit(self, indices_or_sections=None, *, sections=None, indices=None):
        return _ops.dsplit(self, indices_or_sections, sections=sections, indices=indices)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return _ops.swapaxes(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        return _ops.swapdims(self, dim0, dim1)

    def broadcast_to(self, size):
        return _ops.broadcast_to(self, size)

    def rot90(self, k=1, dims=(0, 1)):
        return _ops.rot90(self, k, dims)

    def take(self, index):
        return _ops.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)

    def unfold(self, dimension, size, step):
        """A view of every window of ``size`` elements along ``dimension``, ``step`` apart, as
        a new last dim."""
        return _ops.unfold_windows(self, dimension, size, step)

    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm_(self, mat1, mat2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.addbmm_(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.baddbmm_(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return _ops.addmv_(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return _ops.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return _ops.addr_(self, vec1, vec2, beta=beta, alpha=alpha)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _ops.nan_to_num(self, nan, posinf, neginf)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return _ops.nan_to_num_(self, nan, posinf, neginf)

    def renorm(self, p, dim, maxnorm):
        return _ops.renorm(self, p, dim, maxnorm)

    def renorm_(self, p, dim, maxnorm):
        return _ops.renorm_(self, p, dim, maxnorm)

    def heaviside(self, values):
        return _ops.heaviside(self, values)

    def heaviside_(self, values):
        return _ops.heaviside_(self, values)

    def copysign(self, other):
        return _ops.copysign(self, other)

    def copysign_(self, other):
        return _ops.copysign_(self, other)

    def nextafter(self, other):
        return _ops.nextafter(self, other)

    def nextafter_(self, other):
        return _ops.nextafter_(self, other)

    def fmod(self, other):
        return _ops.fmod(self, other)

    def fmod_(self, other):
        return _ops.fmod_(self, other)

    def float_power(self, exponent):
        return _ops.float_power(self, exponent)

    def float_power_(self, exponent):
        return _ops.float_power_(self, exponent)

    def logit(self, eps=None):
        return _ops.logit(self, eps)

    def logit_(self, eps=None):
        return _ops.logit_(self, eps)

    def deg2rad(self):
        return _ops.deg2rad(self)

    def deg2rad_(self):
        return _ops.deg2rad_(self)

    def rad2deg(self):
        return _ops.rad2deg(self)

    def rad2deg_(self):
        return _ops.rad2deg_(self)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.nanmean(self, dim, keepdim, dtype=dtype)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.nansum(self, dim, keepdim, dtype=dtype)

    def histc(self, bins=100, min=0, max=0):
        return _ops.histc(self, bins, min, max)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return _ops.corrcoef(self)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return _ops.diff(self, n, dim, prepend, append)

    def count_nonzero(self, dim=None):
        return _ops.count_nonzero(self, dim)

    def aminmax(self, *, dim=None, keepdim=False):
        return _ops.aminmax(self, dim=dim, keepdim=keepdim)

    def signbit(self):
        return _ops.signbit(self)

    def logdet(self):
        return _ops.math_extra.logdet(self)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _ops.scatter_reduce_(self, dim, index, src, reduce, include_self=include_self)

    def index_add(self, dim, index, source, *, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _ops.index_add_(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return _ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return _ops.index_copy_(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return _ops.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return _ops.index_fill_(self, dim, index, value)

    def masked_scatter(self, mask, source):
        return _ops.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return _ops.masked_scatter_(self, mask, source)

    def index_put(self, indices, values, accumulate=False):
        return _ops.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return _ops.index_put_(self, indices, values, accumulate)

    def put(self, index, source, accumulate=False):
        return _ops.put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        return _ops.put_(self, index, source, accumulate)

    def select_scatter(self, src, dim, index):
        return _ops.select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _ops.slice_scatter(self, src, dim, start, end, step)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return _ops.diagonal_scatter(self, src, offset, dim1, dim2)

    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def type_as(self, other):
        return self.to(other.dtype)

    # sorting and scans
    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.argsort(self, dim, descending, stable)

    def msort(self):
        return _ops.msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return _ops.kthvalue(self, k, dim, keepdim)

    def cumsum(self, dim, *, dtype=None):
        return _ops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return _ops.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return _ops.cummax(self, dim)

    def cummin(self, dim):
        return _ops.cummin(self, dim)

    def logcumsumexp(self, dim):
        return _ops.logcumsumexp(self, dim)

    # more shape ops
    def flip(self, *dims):
        return _ops.flip(self, dims[0] if len(dims) == 1 else dims)

    def fliplr(self):
        return _ops.fliplr(self)

    def flipud(self):
        return _ops.flipud(self)

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *dims):
        return _ops.tile(self, dims[0] if len(dims) == 1 else dims)

    def tril(self, diagonal=0):
        return _ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _ops.triu(self, diagonal)

    def diag(self, diagonal=0):
        return _ops.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _ops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _ops.diag_embed(self, offset, dim1, dim2)

    def trace(self):
        return _ops.trace(self)

    def outer(self, vec2):
        return _ops.outer(self, vec2)

    ger = outer

    def kron(self, other):
        return _ops.kron(self, other)

    # scatter and selection
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.scatter_(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return _ops.scatter_add_(self, dim, index, src)

    def masked_select(self, mask):
        return _ops.masked_select(self, mask)

    def nonzero(self, *, as_tuple=False):
        return _ops.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return _ops.argwhere(self)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ops.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return _ops.bincount(self, weights, minlength)

    def isin(self, test_elements, *, assume_unique=False, invert=False):
        return _ops.isin(self, test_elements, assume_unique=assume_unique, invert=invert)

    # more elementwise math
    def atan2(self, other):
        return _ops.atan2(self, other)

    arctan2 = atan2

    def hypot(self, other):
        return _ops.hypot(self, other)

    def logaddexp(self, other):
        return _ops.logaddexp(self, other)

    def xlogy(self, other):
        return _ops.xlogy(self, other)

    def polygamma(self, n):
        return _ops.polygamma(n, self)

    def lerp(self, end, weight):
        return _ops.lerp(self, end, weight)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _ops.addcdiv(self, tensor1, tensor2, value=value)


def _unary_method(name):
    def method(self):
        return getattr(_ops, name)(self)

    method.__name__ = method.__qualname__ = name
    return method


def _unary_inplace_method(name):
    def method(self):
        return _ops.inplace.unary_(self, getattr(_ops, name))

    method.__name__ = method.__qualname__ = f"{name}_"
    return method


# The unary math of ``ops.math_more``: ``t.erf()``, ``t.erf_()``...
for _name in ("erf", "erfc", "erfinv", "lgamma", "digamma", "log1p", "expm1", "log2", "log10",
              "exp2", "tan", "sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "atan",
              "sinc", "reciprocal", "rsqrt", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
              "arctanh"):
    setattr(TensorMethods, _name, _unary_method(_name))
    setattr(TensorMethods, f"{_name}_", _unary_inplace_method(_name))
del _name
