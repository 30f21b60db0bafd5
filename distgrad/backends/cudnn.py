"""``distgrad.backends.cudnn``: settable flags with PyTorch's defaults (distgrad has no
cuDNN, so they change nothing)."""

__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    """None: there is no cuDNN library."""
    return None
