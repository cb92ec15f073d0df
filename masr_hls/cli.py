"""The ``masr-hls`` command line."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
masr-hls turns trained Keras sparse recurrent models into MASR accelerator
hardware (HLS C++), proven bit for bit against a numpy fixed-point reference.

Start with:  masr-hls selfcheck     (C-simulate every module against the reference)
"""


def _selfcheck(args) -> int:
    from . import selfcheck

    results = selfcheck.run(seed=args.seed)
    print(selfcheck.format_table(results))
    return 0 if all(r.ok for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="masr-hls", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "selfcheck",
        help="C-simulate the bundled MASR modules against the numpy reference and print the comparison",
        description="Compile each MASR module with g++ and the ap_types headers, run it on random sparse data "
        "and compare every output bit and every cycle count with the numpy reference.",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed for the generated cases (default: 0)")
    p.set_defaults(func=_selfcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"masr-hls {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
