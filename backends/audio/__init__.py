"""Audio backends: speech, the mix, loudness. Audio is the master clock."""
