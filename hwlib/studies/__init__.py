"""The two studies the notebooks run, on shared experiment steps.

* :mod:`.common` - seed/build/train/test (:func:`train_and_test`), accuracy per channel combination.
* :mod:`.results` - one cost helper (:func:`measure_cost`), intervals over seeds, :class:`Goal`, and
  :class:`StudyResult` (owns its JSON).
* :mod:`.channels` - notebook 01: :func:`run_channel_study` -> :class:`ChannelStudyResult`.
* :mod:`.dense` - notebook 02: :func:`run_dense_study` -> :class:`DenseStudyResult`.
"""

from .channels import VARIANTS, ChannelStudyResult, Variant, run_channel_study
from .common import RunResult, train_and_test
from .dense import MODELS, DenseStudyResult, SweepPoint, recipes, run_dense_study, steps_per_epoch
from .results import Cost, Goal, StudyResult, measure_cost

__all__ = [
    "MODELS",
    "VARIANTS",
    "ChannelStudyResult",
    "Cost",
    "DenseStudyResult",
    "Goal",
    "RunResult",
    "StudyResult",
    "SweepPoint",
    "Variant",
    "measure_cost",
    "recipes",
    "run_channel_study",
    "run_dense_study",
    "steps_per_epoch",
    "train_and_test",
]
