"""Newsletter publishing for a daily health e-Alert."""

__version__ = "0.1.0"
