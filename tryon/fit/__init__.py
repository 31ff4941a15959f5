"""The fit engine: size systems, brand lasts, and size recommendations for shoes and clothing.

Pure Python over plain values (``scanning.types`` measurements, ``assets.catalog`` products),
so the kiosk, the mobile app and the cloud service all run the same code.
"""
