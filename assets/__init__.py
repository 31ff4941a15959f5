"""Shipped data (catalog seed, shoe models and lasts, garment images) and the generators of procedural assets."""
