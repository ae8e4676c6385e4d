"""Data sets, typed containers and loaders. Imports nothing else from cinerec but errors/config."""
