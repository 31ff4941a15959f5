"""The pygame kiosk app: the shopper journey (scan, size, cart, pairing, checkout) and staff admin mode.

``KioskApp(KioskConfig(...)).run()`` runs it; ``omnifit kiosk`` is its command line.
Screens are a state machine (``kiosk.app.screen.Screen``) driven by touch, mouse
and keyboard events; cloud calls and scans run on ``kiosk.app.worker.Worker`` so the
UI loop never waits on the network.
"""
