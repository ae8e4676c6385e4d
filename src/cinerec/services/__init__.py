"""Orchestration used by both the web app and the CLI. No FastAPI, no CLI imports here."""
