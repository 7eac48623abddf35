import pytest

from meshdash.bookmarks.urlcheck import UnsafeUrl, normalise_internal_url


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/workloads/", ("/workloads/", "")),
        ("/workloads/?sort=rps&ns=b&ns=a&dir=desc", ("/workloads/", "dir=desc&ns=a&ns=b&sort=rps")),
        ("/workloads/?q=web#table", ("/workloads/", "q=web")),
        (
            "/workloads/shop/deployment/cart/?window=1h",
            ("/workloads/shop/deployment/cart/", "window=1h"),
        ),
        ("/?window=10m", ("/", "window=10m")),
    ],
)
def test_it_normalises_internal_urls(raw, expected):
    assert normalise_internal_url(raw) == expected


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "required"),
        ("//evil.example/", "must start with one /"),
        ("https://x.example/", "must start with one /"),
        ("javascript:alert(1)", "must start with one /"),
        ("/\\evil.example", "backslashes"),
        ("/%5Cevil.example", "backslashes"),
        ("/%2F/evil.example", "must start with one /"),
        ("/workloads/?q=a\nb", "control characters"),
        ("/workloads/\x00", "control characters"),
        ("/workloads/ x", "spaces"),
        ("/workloads/?next=javascript:alert(1)", "javascript:"),
        ("/nowhere/", "not a meshdash page"),
        ("/" + "a" * 2000, "longer than 2000"),
        ("/workloads/a/deployment/" + "b" * 500 + "/", "path is longer than 500"),
        ("/workloads/?q=" + "," * 700, "query is longer than 2000"),
        ("/workloads/?" + "&".join(f"p{n}=1" for n in range(101)), "more than 100 parameters"),
    ],
)
def test_it_refuses_anything_but_our_pages(raw, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        normalise_internal_url(raw)
