"""``distgrad.backends.cuda``: ``is_built()`` (False) and the settable
``matmul.allow_tf32`` / ``matmul.allow_fp16_reduced_precision_reduction`` flags."""

from types import SimpleNamespace

__all__ = ["is_built", "matmul"]

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False
