"""Stage 1: reading and validating event logs and customer tables; bundled data; simulators."""

from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import EventLog, read_event_log
from survchurn.data.simulate import (
    DealershipData,
    DealershipTruth,
    HazardSpec,
    VisitSpec,
    simulate_dealership,
)
from survchurn.data.validate import CustomerTable, read_customer_table

__all__ = [
    "CustomerTable",
    "DealershipData",
    "DealershipTruth",
    "EventLog",
    "HazardSpec",
    "VisitSpec",
    "load_cdnow",
    "read_customer_table",
    "read_event_log",
    "simulate_dealership",
]
