"""Brand last gradings (``gradings.json``), read by ``tryon.fit.lasts``."""
