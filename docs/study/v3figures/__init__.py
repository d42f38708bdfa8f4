"""Study v3's figures by sweep (docs/study/recompute.py says what each key means)."""

from .classes import closed, payload
from .deployed import deployed
from .open_model import capacity, open_model

__all__ = ["capacity", "closed", "deployed", "open_model", "payload"]
