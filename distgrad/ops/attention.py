"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``, with
PyTorch's signatures and mask conventions.

Both are compositions of taped ops (matmul, softmax, where, dropout, linear), so backward and
double backward come from the tape. The one extra piece is the "safe" softmax PyTorch's
scaled_dot_product_attention uses: a query row whose every key is masked out attends to
nothing and gives zeros (and zero gradients), not NaN.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from . import linalg, norm_ops, pieces, shape_ops
from ._nn_common import array_of, shape_str
from .elementwise import masked_fill
from .nn_fused import dropout, linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


# ------------------------------------------------------------- scaled dot-product attention


def _check_sdpa_shapes(q, k, v, enable_gqa):
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention(): {name} must have at least 2 "
                               f"dims (..., seq_len, features), got shape {shape_str(t.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention(): query and key must have the same "
                           f"last dim (embedding size), got query {shape_str(q.shape)} and key "
                           f"{shape_str(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention(): key and value must have the same "
                           f"sequence length (dim -2), got key {shape_str(k.shape)} and value "
                           f"{shape_str(v.shape)}")
    if enable_gqa and q.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"scaled_dot_product_attention(): with enable_gqa=True the number "
                               f"of heads in key ({hk}) and value ({hv}) must divide the number "
                               f"of heads in query ({hq})")
        return
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention(): the batch dims of query "
                           f"{shape_str(q.shape)}, key {shape_str(k.shape)} and value "
                           f"{shape_str(v.shape)} do not broadcast (for grouped-query "
                           f"attention pass enable_gqa=True)") from None


def _repeat_heads(t, heads):
    """Repeat each head of ``t`` (``(..., H, S, E)``) ``heads // H`` times, in place order
    (``repeat_interleave`` on dim -3), as views: an expand and a reshape."""
    h, s, e = t.shape[-3:]
    if h == heads:
        return t
    lead = t.shape[:-3]
    wide = shape_ops.expand(shape_ops.unsqueeze(t, -3), *lead, h, heads // h, s, e)
    return shape_ops.reshape(wide, *lead, heads, s, e)


def _mask_scores(scores, attn_mask, query_dtype):
    """Apply ``attn_mask`` to the scores: a bool mask keeps the True entries (the rest become
    -inf), a float mask is added."""
    mask = array_of(attn_mask)
    if not isinstance(mask, np.ndarray):
        mask = np.asarray(mask)
    if mask.dtype == np.bool_:
        return masked_fill(scores, ~mask, _NEG_INF)
    if mask.dtype != query_dtype:
        raise RuntimeError(f"scaled_dot_product_attention(): expected attn_mask of dtype bool "
                           f"or of the query's dtype ({query_dtype}), got {mask.dtype}")
    return scores + (attn_mask if isinstance(attn_mask, Tensor) else Tensor._wrap(mask))


def _safe_softmax(scores):
    """Softmax over the last dim, with rows that are all -inf (fully masked) giving zeros.

    The scores of those rows are replaced by zeros before the softmax, so neither the forward
    nor the backward sees ``-inf - -inf``; the second ``masked_fill`` then zeroes their
    probabilities (and so stops their gradients)."""
    dead = np.all(np.isneginf(scores._data), axis=-1, keepdims=True)
    if not dead.any():
        return norm_ops.softmax(scores, -1)
    probs = norm_ops.softmax(masked_fill(scores, dead, 0.0), -1)
    return masked_fill(probs, dead, 0.0)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query @ key.mT * scale + mask) @ value``, with dropout on the weights.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        attn_mask: broadcastable to ``(..., L, S)``. A bool mask says which keys each query
            may attend to (True = take part); a float mask (of the query's dtype) is added
            to the scores.
        dropout_p: dropout probability on the attention weights. It is applied whenever it
            is positive (there is no ``training`` flag): pass 0.0 in evaluation.
        is_causal: mask out the keys after each query (the top-left aligned lower triangle
            of an ``(L, S)`` matrix); ``attn_mask`` must then be None.
        scale: the factor on the scores, ``1 / sqrt(E)`` by default.
        enable_gqa: grouped-query attention: key and value may have fewer heads (dim -3)
            than query, each shared by ``Hq // Hk`` consecutive query heads.

    Returns:
        ``(..., L, Ev)``. A query whose keys are all masked out gets zeros, as in PyTorch.

    Example::

        >>> q = k = v = distgrad.randn(2, 4, 5, 8)  # (batch, heads, seq, features)
        >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 5, 8)
    """
    _check_sdpa_shapes(query, key, value, enable_gqa)
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention(): an explicit attn_mask should not "
                           "be set when is_causal=True")
    if enable_gqa and query.ndim >= 3:
        key = _repeat_heads(key, query.shape[-3])
        value = _repeat_heads(value, query.shape[-3])
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    # Scaling the (L, E) query is cheaper than the (L, S) scores.
    scores = linalg.matmul(query * scale, shape_ops.transpose(key, -2, -1))
    if is_causal:
        length, source = query.shape[-2], key.shape[-2]
        attn_mask = np.tril(np.ones((length, source), dtype=np.bool_))
    if attn_mask is not None:
        scores = _mask_scores(scores, attn_mask, query._data.dtype)
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return linalg.matmul(weights, value)


# ------------------------------------------------------------------- multi-head attention


def canonical_mask(mask, name, dtype):
    """A bool mask (True = masked out, the ``nn`` convention) as a float mask of ``dtype``
    with -inf at the masked entries; a float mask is returned as is."""
    if mask is None:
        return None
    data = array_of(mask)
    if not isinstance(data, np.ndarray):
        data = np.asarray(data)
    if data.dtype == np.bool_:
        return Tensor._wrap(np.where(data, dtype.type(_NEG_INF), dtype.type(0.0)))
    if data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported, got "
                             f"{data.dtype}")
    return mask if isinstance(mask, Tensor) else Tensor._wrap(data)


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-D) or unbatched (2-D), checking the masks' ranks."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(f"For batched (3-D) query, expected key and value to be 3-D but "
                                 f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(f"For batched (3-D) query, expected key_padding_mask to be None "
                                 f"or 2-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For batched (3-D) query, expected attn_mask to be None, 2-D "
                                 f"or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(f"For unbatched (2-D) query, expected key and value to be 2-D "
                                 f"but found {key.ndim}-D and {value.ndim}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(f"For unbatched (2-D) query, expected key_padding_mask to be "
                                 f"None or 1-D but found {key_padding_mask.ndim}-D tensor "
                                 f"instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) query, expected attn_mask to be None, "
                                     f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected attn_mask shape to be {expected} but got "
                                     f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _in_projection(query, key, value, w, b, separate):
    """Project query, key and value with the packed ``(3E, E)`` weight, or the three separate
    ``(q, k, v)`` weights; one matmul when query, key and value are the same tensor."""
    if separate:
        wq, wk, wv = w
    else:
        e = w.shape[0] // 3
        if query is key and key is value:
            return pieces.chunk(linear(query, w, b), 3, -1)
        wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
    bq = bk = bv = None
    if b is not None:
        e = b.shape[0] // 3
        bq, bk, bv = b[:e], b[e:2 * e], b[2 * e:]
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def _pad_last(mask, width=1):
    """Append ``width`` zero (attend) columns to a float mask."""
    if mask is None:
        return None
    zeros = np.zeros(mask.shape[:-1] + (width,), dtype=mask._data.dtype)
    return shape_ops.cat([mask, Tensor._wrap(zeros)], -1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """The forward of :class:`~distgrad.nn.MultiheadAttention` with explicit parameters.

    Inputs are ``(L, N, E)`` query and ``(S, N, Ek)``/``(S, N, Ev)`` key and value (sequence
    first), or unbatched ``(L, E)``/``(S, Ek)``/``(S, Ev)``. Masks follow ``nn``'s
    convention: True (or -inf) = masked out. ``attn_mask`` is ``(L, S)`` or
    ``(N * num_heads, L, S)``; ``key_padding_mask`` is ``(N, S)``.

    Returns ``(attn_output, attn_weights)``: ``(L, N, E)`` and, when ``need_weights``,
    ``(N, L, S)`` averaged over heads (``(N, num_heads, L, S)`` when not
    ``average_attn_weights``), else None.
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward(): static_k and static_v are "
                                  "not supported by distgrad")
    batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", query._data.dtype)
    if not batched:
        query, key, value = (shape_ops.unsqueeze(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = shape_ops.unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)}")

    dtype = query._data.dtype
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # trust the hint: scaled_dot_product_attention builds the mask
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            is_causal = False

    weights = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else in_proj_weight
    q, k, v = _in_projection(query, key, value, weights, in_proj_bias, use_separate_proj_weight)

    src_len = k.shape[0]
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, "
                                   f"but should be {(tgt_len, src_len)}.")
            attn_mask = shape_ops.unsqueeze(attn_mask, 0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                               f"should be {(bsz * num_heads, tgt_len, src_len)}.")

    if bias_k is not None and bias_v is not None:
        k = shape_ops.cat([k, shape_ops.expand(bias_k, 1, bsz, embed_dim)], 0)
        v = shape_ops.cat([v, shape_ops.expand(bias_v, 1, bsz, embed_dim)], 0)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must be given together")

    # (L, N, E) -> (N * H, L, head_dim): each (batch, head) pair becomes a batch entry.
    q = shape_ops.transpose(shape_ops.reshape(q, tgt_len, bsz * num_heads, head_dim), 0, 1)
    k = shape_ops.transpose(shape_ops.reshape(k, k.shape[0], bsz * num_heads, head_dim), 0, 1)
    v = shape_ops.transpose(shape_ops.reshape(v, v.shape[0], bsz * num_heads, head_dim), 0, 1)

    if add_zero_attn:
        zeros = Tensor._wrap(np.zeros((bsz * num_heads, 1, head_dim), dtype=dtype))
        k = shape_ops.cat([k, zeros], 1)
        v = shape_ops.cat([v, zeros], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        padding = shape_ops.reshape(key_padding_mask, bsz, 1, 1, src_len)
        padding = shape_ops.reshape(shape_ops.expand(padding, bsz, num_heads, 1, src_len),
                                    bsz * num_heads, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding

    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = linalg.bmm(q * math.sqrt(1.0 / head_dim), shape_ops.transpose(k, -2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        # A plain softmax, as PyTorch's need_weights path: fully masked rows give NaN.
        with np.errstate(invalid="ignore"):
            attn_weights = norm_ops.softmax(scores, -1)
        if dropout_p > 0.0:
            attn_weights = dropout(attn_weights, dropout_p)
        attn_output = linalg.bmm(attn_weights, v)
        attn_output = shape_ops.reshape(shape_ops.transpose(attn_output, 0, 1),
                                        tgt_len * bsz, embed_dim)
        attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
        attn_output = shape_ops.reshape(attn_output, tgt_len, bsz, embed_dim)
        attn_weights = shape_ops.reshape(attn_weights, bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            attn_weights = attn_weights.mean(1)
        if not batched:
            attn_output = shape_ops.squeeze(attn_output, 1)
            attn_weights = shape_ops.squeeze(attn_weights, 0)
        return attn_output, attn_weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1:
            attn_mask = shape_ops.unsqueeze(attn_mask, 0)
        else:
            attn_mask = shape_ops.reshape(attn_mask, bsz, num_heads, -1, src_len)
    q = shape_ops.reshape(q, bsz, num_heads, tgt_len, head_dim)
    k = shape_ops.reshape(k, bsz, num_heads, src_len, head_dim)
    v = shape_ops.reshape(v, bsz, num_heads, src_len, head_dim)
    attn_output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    attn_output = shape_ops.reshape(shape_ops.permute(attn_output, 2, 0, 1, 3),
                                    bsz * tgt_len, embed_dim)
    attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
    attn_output = shape_ops.reshape(attn_output, tgt_len, bsz, embed_dim)
    if not batched:
        attn_output = shape_ops.squeeze(attn_output, 1)
    return attn_output, None
