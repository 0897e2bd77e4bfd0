"""Stream processors (the faust app)."""
