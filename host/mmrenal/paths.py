"""Where the firmware sources live, for the engines, the generators and deploy.

The host package is installed editable from the repository (``make`` does this), so
the firmware tree is found beside it. ``MMRENAL_FIRMWARE`` overrides the location.
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = Path(os.environ.get("MMRENAL_FIRMWARE", REPO / "firmware"))
