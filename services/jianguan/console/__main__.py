"""`python -m jianguan.console`: the console process (``console.main``)."""

from jianguan.console.main import run
from jianguan.runtime.entry import service_main

raise SystemExit(service_main(run, "console"))
