"""jianguan (监管): event-sourced supervision of generative-AI services (Interim Measures, 2023)."""

__version__ = "0.1.0"
