"""`python -m reel.server`: the build server's process (`reel server start` runs it)."""

from __future__ import annotations

import argparse
import sys

from ..cli import main as cli_main
from . import control, daemon, protocol


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m reel.server")
    parser.add_argument("--max-idle", type=float, default=control.DEFAULT_MAX_IDLE)
    options = parser.parse_args()
    return daemon.serve(cli_main, protocol.directory(), options.max_idle)


if __name__ == "__main__":
    sys.exit(main())
