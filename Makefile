# Two commands: `make report` (regenerate the three notebooks) and `make test` (unit tests + nbval).
# Each creates .venv and installs the pinned requirements on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
DATA ?=
SEED ?= 0
PUBLISH ?= 0
FRESH ?= 0

NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: install report test test-unit lint check-data lab clean dry-run-course gpu-check
install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

## make report [DATA=path/or.zip] [PROFILE=smoke|cpu|cpu-real|full|rehearsal] [SEED=0] [PUBLISH=1] [FRESH=1]
## re-running resumes: finished runs are loaded, an interrupted one continues; FRESH=1 trains every run from scratch
report: install
	$(PY) -m hwlib.runner --profile $(PROFILE) --seed $(SEED) $(if $(DATA),--data "$(DATA)") $(if $(filter 1,$(PUBLISH)),--publish) $(if $(filter 1,$(FRESH)),--fresh)

## lint (ruff), unit tests of hwlib (real-data tests run when ../shared/data exists) and nbval over the notebooks (smoke profile)
test: install lint
	HWLIB_PROFILE=smoke HWLIB_DATA= HWLIB_OUTPUT_DIR= HWLIB_FRESH=1 HWLIB_PROGRESS=line $(PY) -m pytest tests notebooks $(NBVAL) -p no:cacheprovider

## lint: ruff over hwlib and tests, and the type checker (mypy, pinned) over hwlib
lint: install
	$(VENV)/bin/ruff check hwlib tests
	$(VENV)/bin/mypy hwlib

test-unit: install
	HWLIB_PROGRESS=line $(PY) -m pytest tests -p no:cacheprovider

## make check-data DATA=path/or.zip: validate a dataset (every image decoded)
check-data: install
	$(PY) -m hwlib.data check "$(DATA)"

## make lab: JupyterLab on notebooks/ from the venv; kernel python3 is the venv's Python (hwlib importable)
lab: install
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

## make dry-run-course [STEPS=150]: the course's 50-class lists filled with one photo per class, through check,
## the 128 px cache and STEPS training steps of Dense4 on the CPU; prints time per stage and peak memory
STEPS ?= 150
dry-run-course: install
	$(PY) -m hwlib.course_dry_run --steps $(STEPS)

## make gpu-check [DATA=path/or.zip]: on a CUDA GPU (<= 10 min), the CUDA paths against their CPU twins (loader
## pixels, compiled vs eager loss, bf16 training), bench --quick and a one-epoch slice of the full profile;
## writes results/gpu_check.json; without CUDA it stops at once (exit 2) and writes nothing
gpu-check: install
	$(PY) -m hwlib.gpu_check $(if $(DATA),--data "$(DATA)")

clean:
	rm -rf runs data/cache
