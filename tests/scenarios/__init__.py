"""Scripted provider histories and the case facts they must produce (live and in replay)."""
