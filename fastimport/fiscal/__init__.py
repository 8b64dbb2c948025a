"""The fiscal room: key check and rotation, anchored chain heads, closings (Z), the event journal's
codes, and signed archives with their offline verifier.

It builds on the chains of :mod:`fastimport.processing.chain`; it knows nothing of HTTP or printers
(a closing ticket's content is handed to the print room as a :class:`~fastimport.print.content`
object by the API).
"""
