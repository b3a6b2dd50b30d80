"""The .episode front end: parse to an AST with spans, resolve to a typed IR.

This package knows the language only. It never imports ffmpeg, the compiler
or a backend; the compiler consumes its IR.
"""
