"""Serving the page from several servers behind nginx (python -m deploy.serve)."""
