"""Delivery analysis: the control-point model, MU density, gamma and the delivery-time model."""

from plancheck.delivery.model import Delivery

__all__ = ["Delivery"]
