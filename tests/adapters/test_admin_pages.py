import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import pytest

from chalicelib.adapters.admin_pages import UnknownScope, render_equality_page, render_recruitment_page
from chalicelib.adapters.equality_questions import equality_questions
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.equality_report import PopulationShares, equality_report
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.recruitment import Journey, funnel, review_queues

TODAY = date(2026, 11, 22)
FORCE = FileForceCatalogue().get("avon-and-somerset")
GROUPS = [g.id for g in FORCE.groups]


def edi(force=FORCE):
    answers = {"bristol": [{"ethnicity": "white", "sex": "female"}] * 12 + [{"ethnicity": "black", "sex": "male"}] * 6,
               "youth": [{"ethnicity": "asian", "sex": "male"}] * 7}
    p = force.population
    shares = PopulationShares(p.area, p.source, p.as_of, p.shares, p.url) if p else None
    return equality_report(force.id, GROUPS, answers, equality_questions(), shares, TODAY)


def charts(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


def table_cells(html: str) -> list[list[str]]:
    class Rows(HTMLParser):
        rows: list = []
        in_cell = False

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            if tag in ("td", "th"):
                self.rows[-1].append("")
                self.in_cell = True

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self.in_cell = False

        def handle_data(self, data):
            if self.in_cell:
                self.rows[-1][-1] += data.strip()

    parser = Rows()
    parser.rows = []
    parser.feed(html)
    return parser.rows


def test_the_equality_page_shows_each_question_as_a_chart_and_a_table_beside_the_population():
    html = render_equality_page(FORCE, edi(), static_url="/static/v1")
    found = charts(html)
    assert len(found) == len(equality_questions())
    assert all(c.get("role") == "img" and c.find("{http://www.w3.org/2000/svg}title") is not None for c in found)
    rows = table_cells(html)
    assert ["Male", "13", "52%", "49%"] in rows  # all groups: 13 of 25, population 49%
    # Nobody preferred not to say or left it out: that 0 would give away the rest, so female (12) is hidden too.
    assert ["Female", "c", "–", "51%"] in rows and ["Prefer not to say", "<5", "–", "–"] in rows
    assert "England and Wales (not the force area)" in html and "/static/v1/govuk-frontend.css" in html


def test_a_group_page_shows_small_counts_as_under_five_in_the_chart_and_the_table():
    html = render_equality_page(FORCE, edi(), static_url="/s", group_id="bristol")
    assert "Equality monitoring: Bristol IAG" in html
    ethnicity = next(c for c in charts(html) if "Ethnic group" in c.find("{http://www.w3.org/2000/svg}title").text)
    assert "<5" in ["".join(t.itertext()) for t in ethnicity.iter("{http://www.w3.org/2000/svg}text")]
    assert ["Mixed or multiple ethnic groups", "<5", "–", "2.9%"] in table_cells(html)
    assert 'href="?group=youth"' in html


def test_a_profile_without_population_figures_still_gets_its_report_without_the_comparison():
    force = replace(FORCE, population=None)
    html = render_equality_page(force, edi(force), static_url="/s")
    assert "gives no population figures" in html and "Population" not in "".join(sum(table_cells(html), []))


def test_a_group_the_report_does_not_have_is_refused():
    with pytest.raises(UnknownScope):
        render_equality_page(FORCE, edi(), static_url="/s", group_id="atlantis")


def test_the_recruitment_page_shows_the_queue_ages_and_the_funnel_as_chart_and_table():
    journeys = [Journey("bristol", Stage.AWAITING_REVIEW, frozenset(), date(2026, 11, 1)),
                Journey("bristol", Stage.DISCUSSION_REQUESTED, frozenset(), date(2026, 11, 15)),
                Journey("bristol", Stage.MEMBER, frozenset(), date(2026, 5, 1))]
    html = render_recruitment_page(FORCE, funnel(FORCE.id, GROUPS, journeys, [], frozenset({"counter-terrorism"}),
                                                 TODAY),
                                   review_queues(FORCE.id, GROUPS, journeys, TODAY), static_url="/s")
    rows = table_cells(html)
    assert ["Bristol IAG", "1", "1", "21", "14"] in rows and ["All groups", "1", "1", "21", "14"] in rows
    assert ["Applied", "3"] in rows and ["Became members", "1"] in rows
    assert all(c.get("role") == "img" for c in charts(html))
