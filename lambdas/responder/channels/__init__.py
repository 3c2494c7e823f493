"""Delivery adapters: one small class per channel behind the ``Channel`` protocol."""

from responder.channels.base import Channel, DeliveryError
from responder.channels.ses import SesChannel, build_mime
from responder.channels.sns import SnsChannel

__all__ = ["Channel", "DeliveryError", "SesChannel", "SnsChannel", "build_mime"]
