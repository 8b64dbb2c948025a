"""Shopify (Admin REST API, GraphQL bulk export): connector, field spec, push-backs, store keys;
described in ``platform.py``."""
