"""Host tools for the mmrenal bedside handheld."""

__version__ = "0.1.0"
