"""Turning stored data into files and pictures: transcript exports, monthly figures, charts,
redaction, and the flow diagrams."""
