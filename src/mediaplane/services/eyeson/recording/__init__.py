"""Recordings and snapshots of a meeting's composed picture: the WebM writer (webm), the recorders running in this
process (recorder), the stored files' signed download links (links), their queries (repository) and JSON
shapes (views). The request rules are in services/eyeson/recordings.py and snapshots.py."""
