from datetime import date

import pytest

from chalicelib.domain.equality_report import (
    ALL_GROUPS, NOT_ANSWERED, SECONDARY, SUPPRESSED, TOTAL, PopulationShares, Question, equality_report, suppress,
)

ETHNICITY = Question("ethnicity", "Ethnic group", ("asian", "black", "mixed", "white", "other", "prefer_not_to_say"))
SEX = Question("sex", "Sex", ("female", "male", "prefer_not_to_say"))
TODAY = date(2026, 11, 22)


def answers(**counts) -> list[dict]:
    """e.g. answers(white=7, black=5) -> 12 records with those ethnicity answers."""
    return [{"ethnicity": value} for value, n in counts.items() for _ in range(n)]


def report(by_group, population=None, questions=(ETHNICITY,)):
    return equality_report("force", list(by_group), by_group, questions, population, TODAY)


def shown(row) -> dict:
    return {c.category: c.shown for c in row.cells}


@pytest.mark.parametrize("count", [1, 2, 3, 4, 0])
def test_a_count_under_five_zero_included_is_shown_as_under_five(count):
    row = report({"a": answers(white=10, black=count, asian=5)}).question("ethnicity").row("a")
    assert shown(row)["black"] in (SUPPRESSED, SECONDARY) and shown(row)["mixed"] == SUPPRESSED
    assert next(c for c in row.cells if c.category == "black").count is None


def test_counts_of_five_or_more_are_shown_with_their_percentage_of_the_total():
    row = report({"a": answers(white=10, black=5, asian=5)}).question("ethnicity").row("a")
    cells = {c.category: c for c in row.cells}
    assert row.total == 20 and cells["white"].count == 10 and cells["white"].percent == 50.0
    # The hidden zeros add up to 0 ("nobody else"), so the smallest shown count is hidden with them.
    assert cells["mixed"].shown == SUPPRESSED and sorted([cells["asian"].shown, cells["black"].shown]) == ["5", "c"]


def test_one_hidden_cell_that_the_total_would_give_away_takes_another_with_it():
    # total 14: white 10 shown, black 4 hidden -> 14 - 10 = 4 would reveal black; white must go too
    row = report({"a": answers(white=10, black=4)}).question("ethnicity").row("a")
    assert shown(row)["white"] == SECONDARY and row.total == 14 and row.cells[0].percent is None


def test_a_group_where_everyone_gave_the_same_answer_does_not_say_so():
    row = report({"a": answers(white=9)}).question("ethnicity").row("a")
    assert all(c.count is None for c in row.cells)  # "white 9, all else 0" would tell each member's answer


def test_a_group_of_three_shows_nothing_and_cannot_be_worked_out_from_the_others_and_the_force_total():
    result = report({"small": answers(asian=2, white=1), "big": answers(white=20, black=6, asian=8)})
    ethnicity = result.question("ethnicity")
    small, big, everyone = (ethnicity.row(s) for s in ("small", "big", ALL_GROUPS))
    assert small.total == 3 and all(c.count is None for c in small.cells)  # 3 applied: the funnel says so too
    # Down each column the force figure less the shown groups must not come to a small number.
    for column, category in enumerate(ETHNICITY.categories):
        force_cell = everyone.cells[column]
        if force_cell.count is not None:
            hidden_sum = force_cell.count - sum(r.cells[column].count or 0 for r in (small, big))
            assert hidden_sum >= 5 or all(r.cells[column].count is not None for r in (small, big)), category
    # Nor from the rows: what big hides adds up to its total less what it shows, never a small number.
    shown_big = sum(c.count for c in big.cells if c.count is not None)
    assert big.total - shown_big >= 5 or shown_big == big.total


def test_a_group_nobody_applied_to_shows_zeros_and_forces_no_other_cell_into_hiding():
    everyone_five = answers(asian=5, black=5, mixed=5, white=5, other=5, prefer_not_to_say=5) + [{}] * 5
    ethnicity = report({"empty": [], "big": everyone_five}).question("ethnicity")
    assert ethnicity.row("empty").total == 0 and {c.shown for c in ethnicity.row("empty").cells} == {"0"}
    assert [c.count for c in ethnicity.row("big").cells] == [5] * 7


def test_the_rule_holds_on_every_line_of_a_larger_table():
    table = {"a": {"x": 3, "y": 12, "z": 0}, "b": {"x": 7, "y": 1, "z": 30}, "c": {"x": 9, "y": 9, "z": 9}}
    result = suppress(table, ["x", "y", "z"])
    full = {g: {**row, TOTAL: sum(row.values())} for g, row in table.items()}
    full[ALL_GROUPS] = {c: sum(full[g][c] for g in table) for c in ("x", "y", "z", TOTAL)}
    lines = [([(r, c) for c in "xyz"], (r, TOTAL)) for r in full]
    lines += [([(g, c) for g in table], (ALL_GROUPS, c)) for c in "xyz"]
    for parts, (wr, wc) in lines:
        hidden = [(r, c) for r, c in parts if result[r][c][0] is None]
        if result[wr][wc][0] is None:
            assert hidden
        elif hidden and len(hidden) < len(parts):
            assert full[wr][wc] - sum(full[r][c] for r, c in parts if (r, c) not in hidden) >= 5
    assert all(result[r][c][0] is None for r in full for c in full[r] if full[r][c] < 5)


def test_unanswered_and_prefer_not_to_say_are_categories_of_their_own():
    records = answers(asian=5, black=5, mixed=5, white=6, other=5, prefer_not_to_say=5)
    records += [{"sex": "male"}] * 5 + [{"ethnicity": "made-up"}] * 1
    row = report({"a": records}).question("ethnicity").row("a")
    counts = {c.category: c.count for c in row.cells}
    assert counts["prefer_not_to_say"] == 5 and counts[NOT_ANSWERED] == 6 and row.total == 37


def test_population_shares_sit_beside_each_category_when_the_profile_has_them():
    population = PopulationShares("Somewhere", "Census 2021", date(2021, 3, 21), {"ethnicity": {"white": 81.7}})
    result = report({"a": answers(white=10, black=5, asian=5)}, population, questions=(ETHNICITY, SEX))
    white = next(c for c in result.question("ethnicity").row("a").cells if c.category == "white")
    assert white.population_percent == 81.7 and result.question("ethnicity").has_population
    assert not result.question("sex").has_population
    assert result.to_dict()["population"]["source"] == "Census 2021"


def test_without_population_shares_the_report_has_no_comparison():
    result = report({"a": answers(white=10)})
    assert result.population is None and not result.question("ethnicity").has_population
    assert all(c.population_percent is None for r in result.question("ethnicity").rows for c in r.cells)


def test_only_periods_that_have_ended_are_offered_newest_first():
    from types import SimpleNamespace

    from chalicelib.domain.equality_report import closed_periods

    campaigns = [SimpleNamespace(id="spring", name="Spring 2026 campaign", opens=date(2026, 3, 1),
                                 closes=date(2026, 4, 30)),
                 SimpleNamespace(id="autumn", name="Autumn 2026 campaign", opens=date(2026, 11, 1),
                                 closes=date(2026, 11, 30)),  # still open on TODAY
                 SimpleNamespace(id="rolling", name="Always open", opens=date(2025, 1, 1), closes=None)]
    periods = closed_periods(campaigns, TODAY)
    ids = [p.id for p in periods]
    assert ids[:3] == ["2026-Q3", "2026-Q2", "campaign-spring"] and len(ids) == 9
    assert "2026-Q4" not in ids and "campaign-autumn" not in ids and "campaign-rolling" not in ids
    assert all(p.ends < TODAY for p in periods)
    assert (periods[0].starts, periods[0].ends) == (date(2026, 7, 1), date(2026, 9, 30))


def test_a_report_reads_back_as_it_was_written():
    from dataclasses import replace

    from chalicelib.domain.equality_report import EqualityReport, Period

    written = replace(report({"a": answers(white=7, black=5), "b": answers(asian=2)}, questions=(ETHNICITY, SEX)),
                      period=Period("2026-Q3", "July to September 2026", date(2026, 7, 1), date(2026, 9, 30)))
    assert EqualityReport.from_dict(written.to_dict()).to_dict() == written.to_dict()
    assert "at least 10 people" in written.to_dict()["rule"]
