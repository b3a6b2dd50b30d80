"""Write a small folder of camera dailies to try Director Mode on.

    python examples/dailies/make_dailies.py [FOLDER]      # default: ./dailies

Six clips (two lines of dialogue in several takes, a spoken slate, dead air,
a clipped take and a black clip), spoken by the Piper voice Reel ships and
drawn by its pinned ffmpeg; nothing is downloaded. The generator is the one
the tests use (tests/dailies.py), so what you try is what is tested.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from dailies import make_dailies


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "dailies")
    answers = make_dailies(folder)
    print(json.dumps({"folder": str(folder), "clips": sorted(answers["clips"])}, indent=2))


if __name__ == "__main__":
    main()
