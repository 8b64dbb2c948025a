"""Hostile bytes: the fuzz target shared by the hypothesis properties and the atheris fuzzer."""
