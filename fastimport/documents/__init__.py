"""Documents for the customer: A4 PDF invoices, credit notes and delivery notes, Factur-X, the mail queue.

* :mod:`.records` reads the stored, signed records (never recomputes them);
* :mod:`.pdf` renders them to A4 PDF (Jinja2 templates in ``templates/``, WeasyPrint);
* :mod:`.facturx` builds the EN 16931 CII XML of a business buyer's invoice and embeds it
  (a Factur-X PDF/A-3);
* :mod:`.mail` is the persistent mail queue and its SMTP worker;
* :mod:`.settings` the ``[documents]`` and ``[mail]`` tables.
"""
