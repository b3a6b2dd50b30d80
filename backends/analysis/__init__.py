"""What a camera take holds, measured: pure functions of one media file.

Each module answers one question (where the speech is, what was said, whether
a slate opens the take, how loud, whether it clips, black frames, sharpness,
shot changes) with a frozen dataclass, using the pinned ffmpeg or
pocketsphinx only: both run offline, and pocketsphinx ships its acoustic
model, dictionary and language model inside its wheel, so no analysis ever
downloads a model. Director Mode (``reel.director.analysis``) gathers these
into one record per take.

Why pocketsphinx's voice-activity detector rather than silero-vad: silero
needs torch (hundreds of megabytes) for a job a WebRTC-style detector does
well on dialogue, and pocketsphinx is already a dependency (the word aligner).
"""
