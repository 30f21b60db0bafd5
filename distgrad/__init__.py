"""distgrad: a tape-based reverse-mode autograd over NumPy with PyTorch's API, and
data-parallel training over MPI.

``import distgrad as torch`` runs ordinary PyTorch training code on NumPy. Importing
distgrad never imports or initialises MPI; ``distgrad.distributed`` does that on demand.
"""

from . import _dtype, autograd, distributed, func, ops  # noqa: E402, I001
from ._dtype import bool_ as bool  # noqa: A001  (PyTorch's name)
from ._dtype import (
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from ._factories import (
    Generator,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    linspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ._tensor import Tensor
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (
    abs,
    add,
    allclose,
    amax,
    amin,
    argmax,
    argmin,
    bitwise_xor,
    bmm,
    cat,
    ceil,
    chunk,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    clone,
    concat,
    concatenate,
    cos,
    div,
    dot,
    eq,
    equal,
    exp,
    expand,
    fix,
    flatten,
    floor,
    floor_divide,
    frac,
    gather,
    ge,
    gt,
    index_select,
    isnan,
    le,
    log,
    log_softmax,
    logical_xor,
    logsumexp,
    lt,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    ne,
    neg,
    norm,
    permute,
    pow,
    prod,
    relu,
    remainder,
    repeat,
    reshape,
    round,
    sigmoid,
    sign,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    t,
    tanh,
    transpose,
    trunc,
    unbind,
    unsqueeze,
    var,
    where,
)
from .ops import (  # the op families added after the core ones
    acos,
    acosh,
    addcdiv,
    addcmul,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argsort,
    argwhere,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bincount,
    cosh,
    cummax,
    cummin,
    cumprod,
    cumsum,
    diag,
    diag_embed,
    diagonal,
    digamma,
    einsum,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    flip,
    fliplr,
    flipud,
    ger,
    hypot,
    isin,
    kron,
    kthvalue,
    lerp,
    lgamma,
    log10,
    log1p,
    log2,
    logaddexp,
    logcumsumexp,
    masked_select,
    meshgrid,
    msort,
    nonzero,
    outer,
    polygamma,
    reciprocal,
    repeat_interleave,
    roll,
    rsqrt,
    scatter,
    scatter_,
    scatter_add,
    scatter_add_,
    searchsorted,
    sinc,
    sinh,
    sort,
    tan,
    tile,
    topk,
    trace,
    tril,
    triu,
    unique,
    xlogy,
)

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
__version__ = "0.1.0"


def is_tensor(obj) -> "builtins.bool":  # noqa: F821
    """True if ``obj`` is a distgrad Tensor."""
    return isinstance(obj, Tensor)


def numel(input) -> "builtins.int":  # noqa: F821
    return input.numel()


def square(input):
    return input * input


def all(input, dim=None, keepdim=False):  # noqa: A001
    return ops.all(input, dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001
    return ops.any(input, dim, keepdim)


def unflatten(input, dim, sizes):
    """Expand dim ``dim`` of ``input`` into ``sizes`` (one of them may be -1)."""
    return input.unflatten(dim, sizes)


# The training stack, importable as attributes like torch.nn and torch.optim.
from . import backends, cuda, linalg, nn, optim, utils  # noqa: E402
from ._device import (  # noqa: E402
    are_deterministic_algorithms_enabled,
    device,
    get_default_device,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_default_device,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from .nn.functional import avg_pool1d, conv1d, max_pool1d  # noqa: E402
from .ops.activations import celu, prelu, selu, threshold  # noqa: E402
from .ops.index_ops import (  # noqa: E402
    diagonal_scatter,
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_put_,
    masked_scatter,
    put,
    scatter_reduce,
    select_scatter,
    slice_scatter,
)
from .ops.linalg_extra import householder_product as orgqr  # noqa: E402
from .ops.linalg_extra import legacy_lu as lu  # noqa: E402
from .ops.linalg_extra import legacy_lu_solve as lu_solve  # noqa: E402
from .ops.linalg_extra import lu_unpack, matrix_exp  # noqa: E402
from .ops.linalg_more import det, inverse, matrix_power, pinverse, slogdet  # noqa: E402
from .ops.linalg_more import legacy_cross as cross  # noqa: E402
from .ops.linalg_more import legacy_svd as svd  # noqa: E402
from .ops.math_extra import (  # noqa: E402
    addbmm,
    addmm,
    addmv,
    addmv_,
    addr,
    aminmax,
    baddbmm,
    cdist,
    chain_matmul,
    copysign,
    corrcoef,
    count_nonzero,
    cov,
    deg2rad,
    deg2rad_,
    diff,
    float_power,
    fmod,
    gradient,
    heaviside,
    histc,
    logdet,  # noqa: E402
    logit,
    logit_,
    nan_to_num,
    nan_to_num_,
    nanmean,
    nansum,
    nextafter,
    rad2deg,
    rad2deg_,
    renorm,
    signbit,
    std_mean,
    tensordot,
    vander,
    var_mean,
)
from .ops.shape_extra import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_tensors,
    broadcast_to,
    cartesian_prod,
    column_stack,
    combinations,
    dsplit,
    dstack,
    hsplit,
    hstack,
    moveaxis,
    movedim,
    narrow,
    rot90,
    row_stack,
    swapaxes,
    swapdims,
    take,
    take_along_dim,
    tensor_split,
    vsplit,
    vstack,
)


def selu_(input):
    return nn.functional.selu_(input)


def celu_(input, alpha=1.0):
    return nn.functional.celu_(input, alpha)


def threshold_(input, threshold, value):  # noqa: F811  (PyTorch's argument name)
    return nn.functional.threshold_(input, threshold, value)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """:func:`distgrad.nn.functional.group_norm` (``cudnn_enabled`` is ignored)."""
    return nn.functional.group_norm(input, num_groups, weight, bias, eps)


def alpha_dropout(input, p, train):
    return nn.functional.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return nn.functional.feature_alpha_dropout(input, p, train)
from .serialization import load, save  # noqa: E402
