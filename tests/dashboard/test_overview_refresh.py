"""The overview refreshes every panel with its table, in one request."""

import pytest

from tests.dashboard.checked import write_checked

pytestmark = pytest.mark.django_db


def test_it_sends_every_panel_out_of_band_with_the_table(client, redis_client):
    write_checked(redis_client)
    body = client.get("/", headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<section id="workloads"')
    panels = body.split('<div id="overview-panels" hx-swap-oob="true">')[1]
    for marker in ('data-stat="workloads"', 'id="attention-h"', 'id="drops-h"', 'id="cp-h"'):
        assert marker in panels
    # the findings come along: cart's old proxies need attention
    assert "shop/cart" in panels.split('id="attention-h"')[1].split("</section>")[0]
    assert "<h2>Workloads</h2>" not in body  # the filter form stays as the user left it


def test_the_full_page_has_its_panels_once_and_in_place(client, known):
    body = client.get("/").content.decode()
    assert body.count('id="overview-panels"') == 1
    assert "hx-swap-oob" not in body
    assert body.index('id="overview-panels"') < body.index("<h2>Workloads</h2>")


def test_a_filtered_refresh_keeps_its_filters_and_still_brings_the_panels(client, known):
    body = client.get("/?health=critical", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-get="/?health=critical"' in body
    assert 'id="overview-panels" hx-swap-oob="true"' in body


def test_the_other_lists_send_no_panels(client, known):
    body = client.get("/workloads/", headers={"HX-Request": "true"}).content.decode()
    assert "overview-panels" not in body
