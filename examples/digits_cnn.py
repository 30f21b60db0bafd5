"""Classify scikit-learn's 8x8 handwritten digits with a small CNN.

conv(1->16, 3x3, pad 1)-ReLU-maxpool 2-conv(16->32, 3x3, pad 1)-ReLU-maxpool 2-flatten-
linear(128->10) on ``(N, 1, 8, 8)`` images, trained with ``CrossEntropyLoss`` and SGD with
momentum (or Adam). A handful of epochs reach about 97% test accuracy.

    python examples/digits_cnn.py --epochs 10
"""

from __future__ import annotations

import os

# These matrices are small: one BLAS thread is fastest, and never oversubscribes the cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from _digits import load_digits_split, progress  # noqa: E402

import distgrad as torch  # noqa: E402
import distgrad.nn as nn  # noqa: E402
import distgrad.optim as optim  # noqa: E402
from distgrad.utils.data import DataLoader, TensorDataset  # noqa: E402


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


@torch.no_grad()
def accuracy(model, x, y) -> float:
    model.eval()
    predictions = model(x).argmax(dim=1)
    model.train()
    return float((predictions == y).float().mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: 0.05 for sgd, 3e-3 for adam)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed=args.seed, images=True)
    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of shape "
          f"{list(x_train.shape[1:])}")

    model = build_model()
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    if args.optimizer == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=args.lr or 0.05, momentum=0.9)
    else:
        optimizer = optim.Adam(model.parameters(), lr=args.lr or 3e-3)
    show_bar = sys.stdout.isatty() and not args.no_progress

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for xb, yb in progress(loader, show_bar, desc=f"epoch {epoch}"):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += float(loss) * len(yb)
            count += len(yb)
        print(f"epoch {epoch:3d}/{args.epochs}  loss {total / count:.4f}  "
              f"test accuracy {accuracy(model, x_test, y_test):.4f}")
    elapsed = time.perf_counter() - start
    print(f"trained in {elapsed:.1f} s")
    print(f"test accuracy: {accuracy(model, x_test, y_test):.4f}")


if __name__ == "__main__":
    main()
