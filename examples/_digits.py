"""Shared data loading for the digits examples: scikit-learn's 8x8 handwritten digits.

``load_digits_split`` loads the 1797 images, splits them into a stratified train and test
set with a fixed seed, and standardises every pixel with the training set's mean and
standard deviation. The arrays are NumPy (float32 images, int64 labels), so that any
example, single-process or distributed, can wrap them as it likes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits_split", "progress"]


def _require_sklearn():
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise SystemExit(
            "This example needs scikit-learn for its dataset. Install it with\n"
            "    pip install 'distgrad[examples]'\n"
            "(or: pip install scikit-learn tqdm)") from None
    return load_digits, train_test_split


def load_digits_split(test_size: float = 0.25, seed: int = 0, images: bool = False):
    """Return ``(x_train, y_train, x_test, y_test)``.

    Args:
        test_size: the fraction of samples held out for testing.
        seed: the seed of the (stratified) split.
        images: shape the inputs ``(N, 1, 8, 8)`` for convolutions instead of ``(N, 64)``.
    """
    load_digits, train_test_split = _require_sklearn()
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y)
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0  # pixels that are blank in every training image
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std
    if images:
        x_train = x_train.reshape(-1, 1, 8, 8)
        x_test = x_test.reshape(-1, 1, 8, 8)
    return x_train, y_train, x_test, y_test


def progress(iterable, enabled: bool, **kwargs):
    """Wrap ``iterable`` in a tqdm bar when ``enabled`` and tqdm is installed."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return iterable
        return tqdm(iterable, leave=False, **kwargs)
    return iterable
