"""Talking to camera devices: ONVIF queries and WS-Discovery on the local network."""
