"""Classify scikit-learn's 8x8 digits with an MLP trained data-parallel on every rank.

Each rank trains on its own shard of the training set (``DistributedSampler``, reshuffled
every epoch with ``set_epoch``), and ``DistributedDataParallel`` averages the gradients, so
every step takes the gradient of the global batch and the replicas stay identical. The
test set is split with ``ShardSampler``, which gives every sample to exactly one rank, and
the loss and accuracy are totalled across ranks with ``MetricSums``: sums and counts in one
all-reduce, so the figures are exact, not averages of averages. Rank 0 prints them.

    distgrad-run -n 2 examples/ddp_digits.py --epochs 20
    python examples/ddp_digits.py              # a world of one process
"""

from __future__ import annotations

import argparse
import time

from _digits import load_digits_split  # examples/_digits.py, beside this script

import distgrad
import distgrad.distributed as dist
import distgrad.nn as nn
import distgrad.optim as optim
from distgrad.distributed import MetricSums
from distgrad.nn.parallel import DistributedDataParallel
from distgrad.utils.data import DataLoader, DistributedSampler, ShardSampler, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="global batch size, split evenly among the ranks (rounded "
                        "down to a multiple of the world size)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and shuffling")
    return parser.parse_args(argv)


def evaluate(model, loader, loss_fn) -> dict:
    """Test loss and accuracy over every rank's shard, totalled exactly across ranks."""
    totals = MetricSums("loss", "correct", "samples")  # declared: a shard may be empty
    model.eval()
    with distgrad.no_grad():  # no collective per batch: shards may differ in length
        for x, y in loader:
            logits = model(x)
            totals.add(loss=float(loss_fn(logits, y)) * len(y),
                       correct=int((logits.argmax(dim=1) == y).sum()), samples=len(y))
    model.train()
    result = totals.all_reduce()
    return {"loss": result["loss"] / result["samples"],
            "accuracy": result["correct"] / result["samples"]}


def main(argv=None):
    args = parse_args(argv)
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    # Every rank must run the same number of steps, so every rank takes the same batch size.
    per_rank = max(1, args.batch_size // world)
    start = time.perf_counter()

    x_train, y_train, x_test, y_test = load_digits_split(seed=args.seed)
    train_set = TensorDataset(distgrad.from_numpy(x_train), distgrad.from_numpy(y_train))
    test_set = TensorDataset(distgrad.from_numpy(x_test), distgrad.from_numpy(y_test))
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    train_loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler)
    test_loader = DataLoader(test_set, batch_size=256, sampler=ShardSampler(test_set))

    distgrad.manual_seed(args.seed)
    model = DistributedDataParallel(
        nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)))
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"{len(train_set)} training and {len(test_set)} test digits; {world} rank(s) "
              f"with a batch of {per_rank} each (global batch {per_rank * world}), "
              f"{len(train_loader)} steps per epoch")

    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle, the same on every rank
        seen = MetricSums("loss", "samples")
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()  # returns with the gradient averaged over the global batch
            optimizer.step()
            seen.add(loss=float(loss) * len(y), samples=len(y))
        train = seen.all_reduce()
        test = evaluate(model, test_loader, loss_fn)
        if rank == 0:
            print(f"epoch {epoch:3d}  train loss {train['loss'] / train['samples']:.4f}  "
                  f"test loss {test['loss']:.4f}  test accuracy {test['accuracy']:.4f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)

    test = evaluate(model, test_loader, loss_fn)
    if rank == 0:
        print(f"final test accuracy: {test['accuracy']:.4f}")
        print(f"total time: {time.perf_counter() - start:.2f} s on {world} rank(s)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
