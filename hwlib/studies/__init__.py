"""The two studies the notebooks run, on shared experiment steps.

* :mod:`.common` - seed/build/train/test (:func:`train_and_test`), accuracy per channel combination,
  one cost helper (:func:`measure_cost`), :class:`Goal`, and :class:`StudyResult` (owns its JSON).
* :mod:`.channels` - notebook 01: :func:`run_channel_study` -> :class:`ChannelStudyResult`.
* :mod:`.dense` - notebook 02: :func:`run_dense_study` -> :class:`DenseStudyResult`.
"""

from .channels import VARIANTS, ChannelStudyResult, Variant, run_channel_study
from .common import Cost, Goal, RunResult, StudyResult, measure_cost, train_and_test
from .dense import ABLATIONS, MODELS, DenseStudyResult, recipes, run_dense_study, steps_per_epoch

__all__ = [
    "ABLATIONS",
    "MODELS",
    "VARIANTS",
    "ChannelStudyResult",
    "Cost",
    "DenseStudyResult",
    "Goal",
    "RunResult",
    "StudyResult",
    "Variant",
    "measure_cost",
    "recipes",
    "run_channel_study",
    "run_dense_study",
    "steps_per_epoch",
    "train_and_test",
]
