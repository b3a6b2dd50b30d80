"""The environment the benches run `reel` in: a user's, as installed.

A shell that sets PYTHONDONTWRITEBYTECODE (this machine's does) makes every
`reel` command compile Reel's hundred modules from source again, about 0.16 s
that no installed copy pays: pip writes the bytecode cache, and Python reuses
it. The benches time Reel, so they run it with the cache on. Nothing else in
the environment is changed.
"""

from __future__ import annotations

import os


def reel_environment() -> dict[str, str]:
    """This process's environment, with Python's bytecode cache allowed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
