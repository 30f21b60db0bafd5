"""``distgrad.cuda``: the CUDA queries of PyTorch, answered for a machine without CUDA.

distgrad runs on the CPU only, so ``is_available()`` is False and ``device_count()`` is 0.
Seeding and cache calls are no-ops, as in a CPU-only PyTorch; calls that need a CUDA device
raise a ``RuntimeError`` saying that distgrad runs on the CPU.
"""

from __future__ import annotations

from ._device import no_accelerator

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "empty_cache", "synchronize", "current_device", "set_device",
           "get_device_name"]


def is_available() -> bool:
    """False: distgrad has no CUDA device."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """No-op (there is no CUDA generator); seed the CPU with ``distgrad.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """No-op (there is no CUDA generator); seed the CPU with ``distgrad.manual_seed``."""


def seed() -> None:
    """No-op."""


def seed_all() -> None:
    """No-op."""


def empty_cache() -> None:
    """No-op: there is no CUDA memory cache."""


def synchronize(device=None) -> None:
    no_accelerator("torch.cuda.synchronize()")


def current_device() -> int:
    no_accelerator("torch.cuda.current_device()")


def set_device(device) -> None:
    no_accelerator(f"torch.cuda.set_device({device!r})")


def get_device_name(device=None) -> str:
    no_accelerator("torch.cuda.get_device_name()")
