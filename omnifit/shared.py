"""Where the data that nobody on the team made lives: ``../shared`` beside the checkout.

``OMNIFIT_SHARED`` names another folder. Nothing here is copied into the project; tests skip
and the demo says so when the folder is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OMNIFIT_SHARED", REPO_ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data"
ACCEPTANCE = SHARED / "acceptance"
