"""Processing: pending order → lawful invoice (gapless, HMAC-chained), stock ledger, shipment, push-back.

Library first; ``fastimport.processing.cli`` is a thin layer over it.
"""
