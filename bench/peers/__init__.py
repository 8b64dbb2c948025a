"""The measured peers: fastimport (both cores), a naive script, and dlt."""
