"""PrestaShop (webservice): connector, field spec, push-backs, store keys; described in ``platform.py``."""
