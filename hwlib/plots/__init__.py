"""Figures, one module per notebook over a common one (theme, saving, shared figure kinds).

`from hwlib import plots` gives every figure function: `plots.savefig`, `plots.plot_history_bands`, ...
"""

from .channels import *  # noqa: F403
from .common import *  # noqa: F403
from .dense import *  # noqa: F403
from .params import *  # noqa: F403
