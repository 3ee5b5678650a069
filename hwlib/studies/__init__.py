"""The studies the notebooks run: each holds its models' registry, its run loop and a result of
numbers and verdicts (no prose: that is :mod:`hwlib.report`'s).

* :mod:`.runs` - the shared experiment steps: seed, draw the seed's training subset, build, train,
  test (:func:`train_and_test`, resumable); per-image correctness by channel combination.
* :mod:`.costs` - parameters, multiply-adds and latency (:func:`measure_cost`).
* :mod:`.results` - :class:`RunInfo` and :class:`StudyResult`, the base of the results (owns its JSON).
* :mod:`.channels` - notebook 01: :data:`VARIANTS`, :func:`run_channel_study` -> :class:`ChannelStudyResult`.
* :mod:`.dense` - notebook 02: :data:`MODELS`, :func:`run_dense_study` -> :class:`DenseStudyResult`.
* :mod:`.params` - notebook 03: :func:`run_param_study` -> :class:`ParamStudyResult`.
"""

from .channels import VARIANTS, ChannelStudyResult, Variant, run_channel_study
from .costs import Cost, measure_cost
from .dense import MODELS, DenseStudyResult, run_dense_study
from .params import ParamStudyResult, run_param_study
from .results import RunInfo, StudyResult
from .runs import RunResult, train_and_test

__all__ = [
    "MODELS",
    "VARIANTS",
    "ChannelStudyResult",
    "Cost",
    "DenseStudyResult",
    "ParamStudyResult",
    "RunInfo",
    "RunResult",
    "StudyResult",
    "Variant",
    "measure_cost",
    "run_channel_study",
    "run_dense_study",
    "run_param_study",
    "train_and_test",
]
