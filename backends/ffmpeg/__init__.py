"""The ffmpeg backend: hermetic CPU renders with the pinned ffmpeg binary."""
