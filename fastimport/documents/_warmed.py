"""Imported by the PDF pool's forkserver: WeasyPrint, fonts, style sheet and template loaded once,
before the workers are forked from it (see :mod:`.batch`)."""

from fastimport.documents import pdf

pdf.warm()
