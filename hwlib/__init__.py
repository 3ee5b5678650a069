"""hwlib: the library behind the FlexConv and Dense4-vs-ResNet34 course report.

Words: "original" is the original (course) report's layer, head and recipe; "seed" is only ever an
RNG seed; "report" is the homework and `make report`; "channel ids" are the identities of the
channels given (a list), "known channels" the size of a layer's identity table, "in_channels" a count.

Where a change belongs (modules in the order data flows through them; none imports one further down):

* :mod:`hwlib.paths`, :mod:`hwlib.seed`, :mod:`hwlib.progress`, :mod:`hwlib.device` - repository
  paths, RNG seeding, progress bars and run logs, the device (choice, bf16 autocast, name).
* :mod:`hwlib.config` - every knob: run profiles (`Profile`: data, channel-study and Dense4-study
  settings), `TrainConfig` and the named, frozen recipes (`ORIGINAL_RECIPE`, `STRONG_RECIPE`).
* :mod:`hwlib.data` - dataset layouts (`lists`), class names (`classes`), decoding (`decode`), the
  uint8 cache (`cache`) producing a `SplitTensors` (`split`, which also draws a seed's training
  subset), batch loaders (`loader`, channels named R, G, B, L, E), the derived luminance and edge
  channels (`derived`), the generated dataset (`synthetic`), `load_dataset` (`prepare`)
  and `python -m hwlib.data check`.
* :mod:`hwlib.flexconv` (three layers: `OriginalFlexConv2d`, `PooledFlexConv2d`, `HybridFlexConv2d`,
  factory `flex_conv2d`), :mod:`hwlib.channel_layers` (the channel-adaptive baselines),
  :mod:`hwlib.models` (notebook 01's networks: flex_cnn, cnn3, adaptive_cnn),
  :mod:`hwlib.dense_models` (notebook 02's: dense4 with its concat switch for Plain4,
  resnet34_baseline with its stem_pool switch for small images), :mod:`hwlib.own4` (notebook 02's own
  four-conv design), all checking their input with :mod:`hwlib.image_checks`.
* :mod:`hwlib.metrics`, :mod:`hwlib.params`, :mod:`hwlib.timing` - accuracy/F1/confusion,
  closed-form and torchinfo parameter counts, wall-clock timing and how busy the machine was.
* :mod:`hwlib.train` - `fit` and `evaluate` (a joint batch of all seven channel combinations is one
  step); :mod:`hwlib.run_cache` - the key (over the normalised code of the shared training sources
  and the study's own models: CHANNEL_SOURCES, DENSE_SOURCES) and folder that make a report resumable.
* :mod:`hwlib.stats` - the one statistics module: intervals over seeds and test images, unpaired
  comparisons, three-outcome verdicts, Holm, and the notation ("mean ± sd (n seeds)", "[low, high]").
* :mod:`hwlib.original` - the original report's published numbers and results quoted from elsewhere.
* :mod:`hwlib.studies` - per notebook a registry of its models, its run loop and a result of numbers
  and verdicts with its JSON (`channels` for 01, `dense` for 02, `params` for 03), over the shared
  `runs` (train and test), `costs` and `results` (base); a new model of notebook 02 is one entry in
  `studies.dense.MODELS`, one of notebook 01 one `Variant` in `studies.channels.VARIANTS`.
* :mod:`hwlib.report` - the prose and tables of each notebook (`channels`, `dense`, `params`, with
  `common` wording); every number from a study's result.
* :mod:`hwlib.plots` - figures (`common`, and one module per notebook); :mod:`hwlib.publish` - the one
  results-JSON writer and the README sections generated from results/.
* :mod:`hwlib.run_context` (`setup_run`, each notebook's first call), :mod:`hwlib.runner`
  (`make report`), :mod:`hwlib.pretrain` (train a profile's runs into the run cache without the
  notebooks), :mod:`hwlib.bench` (`python -m hwlib.bench`), :mod:`hwlib.course_dry_run`
  (`make dry-run-course`).

Flow: list file or folder -> cached uint8 split -> the seed's training subset -> BatchLoader ->
model -> fit history and per-image test correctness -> study result (numbers, verdicts) -> results
JSON, figures and report prose -> notebook cells and README sections.
"""

__version__ = "0.3.0"
