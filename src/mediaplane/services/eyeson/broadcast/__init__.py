"""Broadcasts: a meeting's composed picture and full audio mix pushed live as H.264/AAC over RTMP or RTMPS.

- ``service`` — the rules behind the routes (one broadcast per platform, 405 when not available …);
- ``state`` — the rows, their eyeson shape, and the ``broadcasts_update`` event;
- ``broadcaster`` — the media side in the process that runs the meeting's room: one encode per meeting and a
  :class:`~mediaplane.kit.rtmp.Relay` that pushes it to every destination, reconnecting with backoff;
- ``encoder`` / ``source`` — libx264 + AAC muxed to FLV in memory, off the event loop, as the relay's source.
"""
