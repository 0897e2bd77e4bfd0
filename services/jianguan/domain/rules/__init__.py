"""The rules catalog and the pure rule engines that enforce it."""
