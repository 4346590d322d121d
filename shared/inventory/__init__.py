"""The data inventory: what biometric data the service holds, about whom, until when.

One small source module per store behind one narrow interface (``source.Source``), listed
in ``registry``; ``report`` asks every registered source and is what the routes call.
"""
