"""Backends: what actions run or emit (ffmpeg, videotoolbox, audio, captions,
timeline). They receive artifacts and actions, never the grammar or the AST."""
