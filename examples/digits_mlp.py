"""Classify scikit-learn's 8x8 handwritten digits with an MLP.

A 64-128-128-10 MLP with ReLU, trained with ``CrossEntropyLoss`` and SGD with momentum (or
Adam) on mini-batches from a ``DataLoader``. With the defaults it reaches about 97% test
accuracy in a few seconds on one core.

    python examples/digits_mlp.py --epochs 20
    python examples/digits_mlp.py --optimizer adam --lr 1e-3
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


def build_model(hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 10),
    )


@torch.no_grad()
def accuracy(model, x, y) -> float:
    model.eval()
    predictions = model(x).argmax(dim=1)
    model.train()
    return float((predictions == y).float().mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128, help="width of the hidden layers")
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: 0.05 for sgd, 1e-3 for adam)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed=args.seed)
    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images")

    model = build_model(args.hidden)
    loss_fn = nn.CrossEntropyLoss()
    if args.optimizer == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=args.lr or 0.05, momentum=0.9)
    else:
        optimizer = optim.Adam(model.parameters(), lr=args.lr or 1e-3)
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
