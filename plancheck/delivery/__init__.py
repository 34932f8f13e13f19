"""Delivery analysis: the control-point model, MU density, gamma and the delivery-time model."""

from plancheck.delivery.model import Delivery
from plancheck.delivery.mudensity import GridSpec, grid

__all__ = ["Delivery", "GridSpec", "grid"]
