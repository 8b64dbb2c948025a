"""Processing: pending order → lawful invoice (gapless, HMAC-chained), stock ledger, shipment, push-back.

Library only: the command line (``fastimport.cli.processing``) and the till page reach it through ``fastimport.api``.
"""
