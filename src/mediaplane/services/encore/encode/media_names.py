"""Names Encore's media model uses for what FFmpeg reports: MediaInfo format names, FFmpeg colour names, levels."""

from __future__ import annotations

# FFmpeg demuxer name (first of its comma list) -> MediaInfo container format.
CONTAINER_FORMATS: dict[str, str] = {
    "mov": "MPEG-4",
    "mxf": "MXF",
    "matroska": "Matroska",
    "webm": "WebM",
    "mpegts": "MPEG-TS",
    "mpeg": "MPEG-PS",
    "wav": "Wave",
    "w64": "Wave64",
    "aiff": "AIFF",
    "aac": "ADTS",
    "flv": "FLV",
    "avi": "AVI",
    "mp3": "MPEG Audio",
    "ogg": "Ogg",
    "flac": "FLAC",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "h264": "AVC",
    "hevc": "HEVC",
    "gxf": "GXF",
    "ivf": "IVF",
    "rawvideo": "YUV",
    "hls": "HLS",
    "dash": "DASH",
}

# Extensions that tell WebM from Matroska (FFmpeg's demuxer serves both).
WEBM_EXTENSIONS = (".webm", ".weba")
WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "opus", "vorbis"})

VIDEO_FORMATS: dict[str, str] = {
    "h264": "AVC",
    "hevc": "HEVC",
    "dnxhd": "VC-3",
    "prores": "ProRes",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg1video": "MPEG Video",
    "mpeg2video": "MPEG Video",
    "mpeg4": "MPEG-4 Visual",
    "vc1": "VC-1",
    "wmv3": "VC-1",
    "h263": "H.263",
    "theora": "Theora",
    "dvvideo": "DV",
    "ffv1": "FFV1",
    "rawvideo": "YUV",
    "v210": "YUV",
    "mjpeg": "JPEG",
    "jpeg2000": "JPEG 2000",
    "png": "PNG",
    "gif": "GIF",
}

AUDIO_FORMATS: dict[str, str] = {
    "aac": "AAC",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "mp1": "MPEG Audio",
    "mp2": "MPEG Audio",
    "mp3": "MPEG Audio",
    "opus": "Opus",
    "flac": "FLAC",
    "vorbis": "Vorbis",
    "alac": "ALAC",
    "dts": "DTS",
    "truehd": "MLP FBA",
    "s302m": "AES3",
}

# Codecs that make a file a still image when they are its only stream.
IMAGE_FORMATS: dict[str, str] = {
    "mjpeg": "JPEG",
    "png": "PNG",
    "apng": "PNG",
    "webp": "WebP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "gif": "GIF",
    "jpeg2000": "JPEG 2000",
    "jpegls": "JPEG-LS",
    "jpegxl": "JPEG XL",
    "dpx": "DPX",
    "exr": "EXR",
    "targa": "TGA",
    "qoi": "QOI",
    "ppm": "PPM",
    "pgm": "PGM",
    "pam": "PAM",
    "sgi": "SGI",
}

# FFmpeg's names (libavutil/pixdesc.c) by enum value; unspecified values are absent.
COLOR_RANGES: dict[int, str] = {1: "tv", 2: "pc"}
COLOR_PRIMARIES: dict[int, str] = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
COLOR_TRANSFERS: dict[int, str] = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}
COLOR_SPACES: dict[int, str] = {
    0: "gbr",
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    12: "chroma-derived-nc",
    13: "chroma-derived-c",
    14: "ictcp",
}
# MediaInfo's transfer_characteristics names.
TRANSFER_CHARACTERISTICS: dict[int, str] = {
    1: "BT.709",
    4: "BT.470 System M",
    5: "BT.470 System B/G",
    6: "BT.601",
    7: "SMPTE 240M",
    8: "Linear",
    11: "xvYCC",
    12: "BT.1361",
    13: "sRGB/sYCC",
    14: "BT.2020 (10-bit)",
    15: "BT.2020 (12-bit)",
    16: "PQ",
    17: "SMPTE 428M",
    18: "HLG",
}

_MPEG2_LEVELS = {4: "High", 6: "High 1440", 8: "Main", 10: "Low"}


def _decimal_level(tenths: int) -> str:
    major, minor = divmod(tenths, 10)
    return f"{major}.{minor}" if minor else str(major)


def level_name(codec: str, level: int) -> str | None:
    """The codec level as people write it ("4.1", "3"), from FFmpeg's integer; None when unknown."""
    if level < 0:
        return None
    if codec == "h264":
        return "1b" if level == 9 else _decimal_level(level)
    if codec == "hevc":  # general_level_idc is 30 x the level
        return _decimal_level(level // 3) if level % 3 == 0 else str(level)
    if codec == "av1":  # seq_level_idx: 2.0 + idx/4 major, idx%4 minor; 31 means unconstrained
        return None if level >= 31 else f"{2 + (level >> 2)}.{level & 3}"
    if codec == "mpeg2video":
        return _MPEG2_LEVELS.get(level, str(level))
    if codec == "vp9":
        return _decimal_level(level)
    return str(level)
