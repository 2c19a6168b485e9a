"""The ASGI app for uvicorn (`tenure serve`), configured from the environment."""

import gc

from tenure.config import get_settings
from tenure.web.app import create_app

app = create_app(run_jobs=get_settings().embedded_worker)

# Move the tens of thousands of objects that imports created out of the collector's
# view: full collections during a 10,000-event batch otherwise rescan them all.
gc.freeze()
