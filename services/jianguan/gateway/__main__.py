"""`python -m jianguan.gateway`: the gateway process (``gateway.main``)."""

from jianguan.gateway.main import run
from jianguan.runtime.entry import service_main

raise SystemExit(service_main(run, "gateway"))
