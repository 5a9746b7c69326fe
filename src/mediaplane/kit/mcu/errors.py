"""The MCU error tree; each is a MediaplaneError so an API can render it in its own format.

McuError             (500) the media engine failed
├── McuOfferError    (400) the offer is not SDP we can answer (also a ValueError)
├── McuLayoutError   (400) a layout the canvas cannot show (also a ValueError)
├── McuSourceError   (400) a layer or a file to play that cannot be used (also a ValueError)
├── McuConflictError (409) a playback of that id runs already
├── McuNotFoundError (404) no participant or playback of that id (also a LookupError)
└── McuClosedError   (409) the room is not started or already closed
"""

from __future__ import annotations

from mediaplane.kit.errors import MediaplaneError

__all__ = [
    "McuClosedError",
    "McuConflictError",
    "McuError",
    "McuLayoutError",
    "McuNotFoundError",
    "McuOfferError",
    "McuSourceError",
]


class McuError(MediaplaneError):
    status_code = 500
    code = "mcu_error"


class McuOfferError(McuError, ValueError):
    status_code = 400
    code = "mcu_bad_offer"


class McuLayoutError(McuError, ValueError):
    status_code = 400
    code = "mcu_bad_layout"


class McuClosedError(McuError):
    status_code = 409
    code = "mcu_closed"


class McuSourceError(McuError, ValueError):
    status_code = 400
    code = "mcu_bad_source"


class McuConflictError(McuError):
    status_code = 409
    code = "mcu_conflict"


class McuNotFoundError(McuError, LookupError):
    status_code = 404
    code = "mcu_not_found"
