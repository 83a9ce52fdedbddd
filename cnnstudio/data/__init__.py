"""Datasets for training: the built-in MNIST, standard files the user already has (MNIST and
Fashion-MNIST IDX, CIFAR-10 python batches, class folders of images, ``.npz``), and what is done
to them on the way to the trainer (subset, split, normalisation, augmentation, preview, and the
check that they fit the network). No Qt here, and torch only inside the functions that take a
tensor.
"""

from .augment import AugmentConfig, Augmenter
from .compatibility import Mismatch, check_compatibility, check_network
from .dataset import ArrayDataset, DatasetError, SkippedFile
from .normalize import Normalization
from .preview import preview_samples
from .registry import DATASETS, DatasetSpec, detect_dataset, load_dataset

__all__ = ["ArrayDataset", "AugmentConfig", "Augmenter", "DATASETS", "DatasetError", "DatasetSpec", "Mismatch",
           "Normalization", "SkippedFile", "check_compatibility", "check_network", "detect_dataset",
           "load_dataset", "preview_samples"]
