"""Command line: `python -m hwlib.data check PATH` and `python -m hwlib.data generate [--out DIR]`."""

from __future__ import annotations

import argparse
import sys

from ..paths import DATA_DIR
from .check import check_dataset
from .lists import DatasetError
from .synthetic import SyntheticSpec, generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwlib.data", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate a dataset folder or .zip (every image decoded) and summarise it")
    c.add_argument("path")
    g = sub.add_parser("generate", help="write the embedded procedural dataset in list layout")
    g.add_argument("--out", default=None, help="folder (default: data/synthetic10)")
    g.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "check":
            print(check_dataset(args.path).summary())
        else:
            spec = SyntheticSpec(seed=args.seed)
            root = generate(args.out or DATA_DIR / spec.name, spec)
            print(f"generated {spec.name} in {root}")
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:  # unreadable zip, permissions, bad arguments: one line, no traceback
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
