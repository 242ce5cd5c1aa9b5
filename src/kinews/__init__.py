"""kinews: an annotated corpus of German technology and innovation-policy news."""

__version__ = "0.2.0"  # the tool's own version; its git tag v0.2.0 is what a pre-commit hook pins
