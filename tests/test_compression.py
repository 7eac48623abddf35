"""meshdash's GZipMiddleware answers as Django's, at a faster level: the same headers, the
same body once decompressed, the same random bytes in the header, streaming left to Django."""

import gzip

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware as DjangoGZip
from django.test import RequestFactory

from meshdash.lib.compression import GZipMiddleware

PAGE = b"".join(b"<tr><td>workload-%d</td><td>99.9 %%</td></tr>\n" % i for i in range(800))


def answered(middleware_class, body=PAGE, accept="gzip, deflate, br", **headers):
    def view(request):
        response = HttpResponse(body)
        for name, value in headers.items():
            response[name] = value
        return response

    request = RequestFactory().get("/workloads/", headers={"Accept-Encoding": accept})
    return middleware_class(view)(request)


def header_names(response) -> set[str]:
    return {name.lower() for name in response.headers}


@pytest.mark.parametrize("headers", [{}, {"ETag": '"abc"'}, {"ETag": 'W/"abc"'}])
def test_it_answers_as_djangos_middleware(headers):
    ours, django = answered(GZipMiddleware, **headers), answered(DjangoGZip, **headers)
    assert header_names(ours) == header_names(django)
    for name in ("Content-Encoding", "Vary", "ETag", "Content-Type"):
        assert ours.get(name) == django.get(name), name
    assert ours["Content-Length"] == str(len(ours.content))
    assert gzip.decompress(ours.content) == gzip.decompress(django.content) == PAGE
    assert len(ours.content) * 5 < len(PAGE)


def test_each_answer_carries_a_random_length_of_header_bytes():
    sizes = {len(answered(GZipMiddleware).content) for _ in range(40)}
    assert len(sizes) > 5
    assert max(sizes) - min(sizes) < GZipMiddleware.max_random_bytes


@pytest.mark.parametrize(
    "case",
    [
        {"accept": "identity"},  # not accepted: only Vary
        {"body": b"short"},  # too short to be worth it
        {"Content_Encoding": "br"},  # already encoded
    ],
)
def test_what_django_leaves_alone_it_leaves_alone(case):
    headers = {k.replace("_", "-"): v for k, v in case.items() if k not in ("accept", "body")}
    kwargs = {k: v for k, v in case.items() if k in ("accept", "body")}
    ours = answered(GZipMiddleware, **kwargs, **headers)
    django = answered(DjangoGZip, **kwargs, **headers)
    assert ours.content == django.content
    assert dict(ours.headers) == dict(django.headers)


def test_streaming_answers_are_compressed_by_django():
    def view(request):
        return StreamingHttpResponse(iter([PAGE[:5000], PAGE[5000:]]))

    request = RequestFactory().get("/workloads.csv", headers={"Accept-Encoding": "gzip"})
    response = GZipMiddleware(view)(request)
    assert response["Content-Encoding"] == "gzip"
    assert "Content-Length" not in response
    assert gzip.decompress(b"".join(response.streaming_content)) == PAGE
