"""Domain-free building blocks: database, jobs, storage, events, FFmpeg, security."""
