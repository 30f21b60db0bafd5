"""Datasets, samplers and ``DataLoader``, with PyTorch's names and behaviour.

``DistributedSampler`` splits a training set among ranks the way PyTorch's does (padding so
that every rank gets the same number of samples); ``ShardSampler`` splits an evaluation set
so that each sample is seen by exactly one rank.
"""

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import Dataset, Subset, TensorDataset, random_split
from .sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    ShardSampler,
)

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "BatchSampler", "DistributedSampler",
           "ShardSampler", "DataLoader", "default_collate", "default_convert"]
