"""Documents as PDF, made with WeasyPrint from ordinary templates.

Templates extend ``pdf/base.html`` (A4, NHS.UK type sizes and colours, page numbers in
the footer). Nothing is fetched over the network: the stylesheet is inline and
WeasyPrint's URL fetcher refuses every URL, so a document renders the same offline.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"PDFs fetch nothing: {url}")


def render_pdf(template_name: str, context: dict, request=None) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template_name, context, request=request)
    # Tagged: a structure tree (headings, paragraphs, tables) for screen readers.
    return HTML(string=html, url_fetcher=_no_fetch, base_url=".").write_pdf(pdf_tags=True)


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
