"""The MCU error tree; each is a MediaplaneError so an API can render it in its own format.

McuError             (500) the media engine failed
├── McuOfferError    (400) the offer is not SDP we can answer (also a ValueError)
├── McuLayoutError   (400) a layout the canvas cannot show (also a ValueError)
└── McuClosedError   (409) the room is not started or already closed
"""

from __future__ import annotations

from mediaplane.kit.errors import MediaplaneError

__all__ = ["McuClosedError", "McuError", "McuLayoutError", "McuOfferError"]


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
