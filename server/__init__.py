"""Reel's build server: a resident process that runs `reel` commands for the
client, so a rebuild does not pay Python's start-up and Reel's imports.

``client`` is the `reel` command itself (standard library only), ``daemon``
the resident process, ``protocol`` what they say to each other.
"""
