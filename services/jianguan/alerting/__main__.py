"""`python -m jianguan.alerting`: the alerting process (``alerting.main``)."""

from jianguan.alerting.main import run
from jianguan.runtime.entry import service_main

raise SystemExit(service_main(run, "alerting"))
