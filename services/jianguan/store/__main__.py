"""`python -m jianguan.store`: the store process (``store.main``)."""

from jianguan.runtime.entry import service_main
from jianguan.store.main import run

raise SystemExit(service_main(run, "store"))
