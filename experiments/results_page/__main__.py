"""`python -m experiments.results_page RUN_DIR ... --out PAGE`."""

import sys

from experiments.results_page.page import main

sys.exit(main())
