"""FFmpeg's standard channel layouts, and how an input's audio streams make up one layout (Encore's rules)."""

from __future__ import annotations

from dataclasses import dataclass

from mediaplane.services.encore.encode.plan import PlanError
from mediaplane.services.encore.schemas.media import AudioStream

# In FFmpeg's order: the first layout with N channels is the default for N channels.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "mono": ("FC",),
    "stereo": ("FL", "FR"),
    "2.1": ("FL", "FR", "LFE"),
    "3.0": ("FL", "FR", "FC"),
    "3.0(back)": ("FL", "FR", "BC"),
    "4.0": ("FL", "FR", "FC", "BC"),
    "quad": ("FL", "FR", "BL", "BR"),
    "quad(side)": ("FL", "FR", "SL", "SR"),
    "3.1": ("FL", "FR", "FC", "LFE"),
    "5.0": ("FL", "FR", "FC", "BL", "BR"),
    "5.0(side)": ("FL", "FR", "FC", "SL", "SR"),
    "4.1": ("FL", "FR", "FC", "LFE", "BC"),
    "5.1": ("FL", "FR", "FC", "LFE", "BL", "BR"),
    "5.1(side)": ("FL", "FR", "FC", "LFE", "SL", "SR"),
    "6.0": ("FL", "FR", "FC", "BC", "SL", "SR"),
    "6.0(front)": ("FL", "FR", "FLC", "FRC", "SL", "SR"),
    "3.1.2": ("FL", "FR", "FC", "LFE", "TFL", "TFR"),
    "hexagonal": ("FL", "FR", "FC", "BL", "BR", "BC"),
    "6.1": ("FL", "FR", "FC", "LFE", "BC", "SL", "SR"),
    "6.1(back)": ("FL", "FR", "FC", "LFE", "BL", "BR", "BC"),
    "6.1(front)": ("FL", "FR", "LFE", "FLC", "FRC", "SL", "SR"),
    "7.0": ("FL", "FR", "FC", "BL", "BR", "SL", "SR"),
    "7.0(front)": ("FL", "FR", "FC", "FLC", "FRC", "SL", "SR"),
    "7.1": ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
    "7.1(wide)": ("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC"),
    "7.1(wide-side)": ("FL", "FR", "FC", "LFE", "FLC", "FRC", "SL", "SR"),
    "5.1.2": ("FL", "FR", "FC", "LFE", "BL", "BR", "TFL", "TFR"),
    "octagonal": ("FL", "FR", "FC", "BL", "BR", "BC", "SL", "SR"),
    "cube": ("FL", "FR", "BL", "BR", "TFL", "TFR", "TBL", "TBR"),
    "5.1.4": ("FL", "FR", "FC", "LFE", "BL", "BR", "TFL", "TFR", "TBL", "TBR"),
    "7.1.2": ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR", "TFL", "TFR"),
    "7.1.4": ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR", "TFL", "TFR", "TBL", "TBR"),
    "7.2.3": ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR", "TFL", "TFR", "TBC", "LFE2"),
    "9.1.4": ("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "SL", "SR", "TFL", "TFR", "TBL", "TBR"),
    "hexadecagonal": (
        *("FL", "FR", "FC", "BL", "BR", "BC", "SL", "SR"),
        *("TFL", "TFC", "TFR", "TBL", "TBC", "TBR", "WL", "WR"),
    ),
    "downmix": ("DL", "DR"),
    "22.2": (
        *("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "BC", "SL", "SR", "TC"),
        *("TFL", "TFC", "TFR", "TBL", "TBC", "TBR", "LFE2", "TSL", "TSR", "BFC", "BFL", "BFR"),
    ),
}


def default_layout(channels: int) -> str | None:
    return next((name for name, ids in LAYOUTS.items() if len(ids) == channels), None)


@dataclass(frozen=True)
class AudioSource:
    """The audio of one input as one multichannel signal."""

    streams: tuple[int, ...]
    """Audio stream numbers (``a:N``) that feed it: one multichannel stream, or several mono streams to join."""
    channels: int
    layout: str

    def join_filter(self) -> str | None:
        if len(self.streams) < 2:
            return None
        names = LAYOUTS[self.layout]
        mapping = "|".join(f"{i}.0-{name}" for i, name in enumerate(names))
        return f"join=inputs={len(self.streams)}:channel_layout={self.layout}:map={mapping}"


def audio_source(
    streams: list[AudioStream], *, audio_stream: int | None, layout_hint: str | None, label: str
) -> AudioSource | None:
    """None when there is no audio. One stream, or a multichannel first stream, is used alone; mono streams
    (all of them, or those before the first multichannel stream) are joined into ``layout_hint`` when it has
    as many channels, else into the default layout for their count."""
    numbers: tuple[int, ...]
    if audio_stream is not None:
        if audio_stream >= len(streams):
            raise PlanError(f"Audio input '{label}' has no audio stream {audio_stream}!")
        chosen, numbers = [streams[audio_stream]], (audio_stream,)
    else:
        chosen, numbers = streams[:1], (0,)
        monos = 0
        for stream in streams:
            if stream.channels != 1:
                break
            monos += 1
        if len(streams) > 1 and monos > 1:
            chosen, numbers = streams[:monos], tuple(range(monos))
    if not chosen:
        return None
    if len(chosen) > 1:
        count = len(chosen)
        hint = layout_hint if layout_hint in LAYOUTS and len(LAYOUTS[layout_hint]) == count else None
        layout = hint or default_layout(count)
    else:
        stream = chosen[0]
        known = stream.channel_layout if stream.channel_layout in LAYOUTS else None
        count = stream.channels or (len(LAYOUTS[known]) if known else 0)
        layout = known if known and len(LAYOUTS[known]) == count else default_layout(count)
    if layout is None:
        raise PlanError(f"Could not determine channel layout for audio input '{label}'!")
    return AudioSource(streams=numbers, channels=count, layout=layout)
