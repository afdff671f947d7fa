"""certreg: CEC's public certificate registry, kept as code."""

__version__ = "0.2.0"
