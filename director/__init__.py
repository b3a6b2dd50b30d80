"""Director Mode: a folder of dailies to a verified cut (issue 17).

The Director writes and edits `.episode` source; the build system does the
rest. It may import reel.lang, reel.compiler and reel.backends; nothing there
imports it."""
