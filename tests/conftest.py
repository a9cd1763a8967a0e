"""Test-wide settings: plots on the Agg backend, no network, no writes outside tmp_path."""

import matplotlib

matplotlib.use("Agg")
