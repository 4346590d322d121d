"""Persistence behind narrow interfaces: Azure Tables, Blobs and Queues (Azurite locally).

Nothing here ever receives an image; templates are stored only encrypted (see crypto.py).
"""
