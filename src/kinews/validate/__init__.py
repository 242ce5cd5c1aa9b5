"""The validator behind one face: `validate(root)` lists every located problem."""

from kinews.validate.validator import validate

__all__ = ["validate"]
