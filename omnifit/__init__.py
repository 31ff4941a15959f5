"""What belongs to no room: the error tree, database settings, the ``omnifit`` command line and the demo."""
