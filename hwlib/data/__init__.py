"""Data: dataset layouts, the embedded generated dataset, decoding, the cache and batch loaders.

Flow (one way): list file or folder -> :func:`open_dataset` (lists.py) -> :func:`load_split`
(cache.py, decoding with decode.py) -> :class:`SplitTensors` (split.py, cached uint8) ->
:class:`BatchLoader` (loader.py: channel subset, flips, crops) -> model.
"""

from .cache import default_cache_dir, load_split
from .decode import decode_resize, decode_sample, map_chunks
from .lists import SPLITS, DatasetError, DatasetSpec, Sample, open_dataset, parse_list
from .loader import COMBOS, BatchLoader, channel_indices, sample_combo, select_channels
from .prepare import LoadedData, load_dataset, resolve_data
from .split import SplitTensors
from .synthetic import SyntheticSpec, generate

__all__ = [
    "COMBOS",
    "SPLITS",
    "BatchLoader",
    "DatasetError",
    "DatasetSpec",
    "LoadedData",
    "Sample",
    "SplitTensors",
    "SyntheticSpec",
    "channel_indices",
    "decode_resize",
    "decode_sample",
    "default_cache_dir",
    "generate",
    "load_dataset",
    "load_split",
    "map_chunks",
    "open_dataset",
    "parse_list",
    "resolve_data",
    "sample_combo",
    "select_channels",
]
