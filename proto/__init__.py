"""The Omnifit wire contract: ``proto/omnifit/v1/*.proto`` and the modules generated from it.

Regenerate with ``make proto`` (``python -m proto.build``); never edit the ``*_pb2*.py`` files.
"""
