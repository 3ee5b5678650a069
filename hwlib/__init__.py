"""hwlib: the library behind the FlexConv and Dense4-vs-ResNet34 course report.

Words: "original" is the original (course) report's layer, head and recipe; "seed" is only ever an
RNG seed; "report" is the homework and `make report`.

Modules, in the order data flows through them (no module imports one further down this list):

* :mod:`hwlib.paths`, :mod:`hwlib.seed`, :mod:`hwlib.progress` - repository paths, RNG seeding,
  progress bars / lines.
* :mod:`hwlib.device` - the device: choice, bf16 autocast, synchronise, its name.
* :mod:`hwlib.config` - run profiles (`Profile`: data, channel-study and Dense4-study settings).
* :mod:`hwlib.data` - dataset layouts (`lists`) and class names (`classes`), decoding and the
  process pool (`decode`), the uint8 cache (`cache`) producing a `SplitTensors` (`split`), batch
  loaders on the CPU or the device (`loader`), the generated dataset (`synthetic`), `load_dataset`
  (`prepare`) and `python -m hwlib.data check`.
* :mod:`hwlib.flexconv`, :mod:`hwlib.channel_layers`, :mod:`hwlib.models` - FlexConv2d (original,
  pooled, hybrid) and its kernel-diversity diagnostic; the channel-adaptive baselines; flex_cnn,
  cnn3, adaptive_cnn, dense4, resnet34_baseline.
* :mod:`hwlib.metrics`, :mod:`hwlib.params`, :mod:`hwlib.timing` - accuracy/F1/confusion,
  closed-form and torchinfo parameter counts, wall-clock timing.
* :mod:`hwlib.train` - `fit` (start, resume, train one epoch, save) and `evaluate`;
  :mod:`hwlib.run_cache` - the key and folder that make a report resumable.
* :mod:`hwlib.original` - the original report's published numbers, quoted by the comparison tables.
* :mod:`hwlib.publish` - results JSON writing and the README sections generated from it.
* :mod:`hwlib.studies` - the shared experiment steps (`common`, `latency`) and the two studies
  (`channels`, `dense`); each returns a result that owns its JSON, goals, costs, findings.
* :mod:`hwlib.plots`, :mod:`hwlib.run_context` - figures; `setup_run`, the notebooks' first call.
* :mod:`hwlib.bench` (`python -m hwlib.bench`), :mod:`hwlib.course_dry_run` (`make dry-run-course`)
  and :mod:`hwlib.runner` (`make report`).

Flow: list file or folder -> cached uint8 split -> BatchLoader -> model -> fit history and test
metrics -> study result -> results JSON and figures -> notebook cells and README tables.
"""

__version__ = "0.2.0"
