"""hwlib.timing.MachineLoad: how much of the CPU other processes used while a block ran."""

import os
import subprocess
import sys
import time

import pytest

from hwlib.timing import MachineLoad


def test_a_busy_other_process_is_seen_even_by_a_short_block():
    if MachineLoad._busy_seconds() is None:
        pytest.skip("no /proc/stat on this system")
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 3: pass"])
    try:
        time.sleep(0.3)  # let it start spinning
        with MachineLoad() as load:
            pass  # a block far shorter than one clock tick: judged over the 0.5 s window
        cores = os.cpu_count() or 1
        assert load.others_busy is not None and load.others_busy > 0.5 / cores  # one core of the machine, spinning
    finally:
        spinner.kill()
        spinner.wait()
