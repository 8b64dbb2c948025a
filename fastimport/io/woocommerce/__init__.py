"""WooCommerce (REST API v3): connector, field spec, push-backs, store keys; described in ``platform.py``."""
