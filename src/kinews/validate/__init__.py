"""The validator behind one face: `validate(root)` lists every located problem of a dataset root,
`load_valid(root)` gives its scheme, documents and annotations once they pass.
"""

from kinews.validate.valid import Checked, load_valid
from kinews.validate.validator import validate

__all__ = ["Checked", "load_valid", "validate"]
