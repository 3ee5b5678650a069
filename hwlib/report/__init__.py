"""The reports' prose: one module per notebook, every number and every condition it states taken
from that notebook's result object (never typed).

* :mod:`.common` - how a verdict, an interval and a run's setting are written (shared wording).
* :mod:`.channels` - notebook 01's Summary, tables, Findings and Limitations.
* :mod:`.dense` - notebook 02's.
* :mod:`.params` - notebook 03's.
"""
