"""Face Studio: the web console served at /studio (site.py, web/) and its QR codes (qr.py)."""
