"""Catalogs with provenance: GPUs, models, and (in later modules) offers and ownership costs."""
