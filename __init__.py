"""Reel: a declarative, Bazel-style build system for video.

The package root is the repository root (see pyproject's ``package-dir``), so
``reel.lang``, ``reel.compiler`` and ``reel.backends`` are the folders of the
same names. Nothing is imported here: ``reel --help`` must stay fast.
"""

__version__ = "0.1.0"
