"""Data: dataset layouts, the embedded generated dataset, the decode cache and batch loaders.

Flow (one way): list file or folder -> :func:`open_dataset` -> :func:`load_split` (cached uint8)
-> :class:`BatchLoader` (channel subset, flips) -> model.
"""
from .cache import SplitTensors, decode_resize, default_cache_dir, load_split
from .lists import SPLITS, DatasetError, DatasetSpec, Sample, open_dataset, parse_list
from .loader import COMBOS, BatchLoader, channel_indices, sample_combo, select_channels
from .prepare import LoadedData, load_dataset, resolve_data
from .synthetic import SyntheticSpec, generate

__all__ = [
    "COMBOS", "SPLITS", "BatchLoader", "DatasetError", "DatasetSpec", "LoadedData", "Sample",
    "SplitTensors", "SyntheticSpec", "channel_indices", "decode_resize", "default_cache_dir",
    "generate", "load_dataset", "load_split", "open_dataset", "parse_list", "resolve_data",
    "sample_combo", "select_channels",
]
