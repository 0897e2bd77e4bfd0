"""Generators of realistic provider traffic."""
