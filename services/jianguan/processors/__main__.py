"""`python -m jianguan.processors [--rules-only]`: the processors process (``processors.main``)."""

import argparse

from jianguan.processors.main import add_arguments, run
from jianguan.runtime.entry import service_main

_parser = argparse.ArgumentParser(prog="python -m jianguan.processors")
add_arguments(_parser)
_rules_only = _parser.parse_args().rules_only
raise SystemExit(
    service_main(
        lambda settings: run(settings, _rules_only),
        lambda settings: settings.rules_worker,  # processors, or a further rules worker's name
    )
)
