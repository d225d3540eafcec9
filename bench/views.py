"""Reference pages served beside the product in benchmarks only (bench.urls)."""

from django.http import HttpResponse
from django.shortcuts import render


def hello(request):
    return HttpResponse("hello, world", content_type="text/plain")


def fifty_rows(request):
    rows = [{"number": n, "name": f"Row {n}", "code": f"R{n:03d}"} for n in range(50)]
    return render(request, "bench/fifty_rows.html", {"rows": rows})
