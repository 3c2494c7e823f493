"""Delivery adapters: one small class per channel behind the ``Channel`` protocol."""

from responder.adapters.channels.base import Channel, DeliveryError
from responder.adapters.channels.ses import SesChannel, build_mime
from responder.adapters.channels.sns import SnsChannel

__all__ = ["Channel", "DeliveryError", "SesChannel", "SnsChannel", "build_mime"]
