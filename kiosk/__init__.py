"""The kiosk: the pygame shopper journey and staff admin mode, and the ``omnifit`` command line."""
