"""Compiler passes over the IR: timing, gates, artifacts, and (later) lowering
to the action graph. Imports :mod:`reel.lang` for the IR; never the grammar."""
