"""The `jianguan` command line (``cli.main``); `python -m jianguan.cli` runs it too."""

from jianguan.cli.main import main, parser

__all__ = ["main", "parser"]
