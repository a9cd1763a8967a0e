"""Stage 1: reading and validating event logs and customer tables; bundled data; simulators."""

from survchurn.data.cdnow import load_cdnow

__all__ = ["load_cdnow"]
