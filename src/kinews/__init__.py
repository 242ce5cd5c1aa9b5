"""kinews: an annotated corpus of German technology and innovation-policy news."""

__version__ = "0.1.0"
