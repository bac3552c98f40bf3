"""Browser tests check a page with reads that wait for it.

A click that leads to another page returns once that page's navigation commits, before its HTML is parsed. A check
made with a read that answers at once (`count()`, `is_visible()`, `title()`, `content()`, ...) then sees whatever is
there so far: twice a clean-clone run failed this way under load (no Continue button on a page that had one; an
equality page without its rule). Playwright's `expect` waits for the page to show what is checked."""
from __future__ import annotations

import ast
from pathlib import Path

# Locator and Page reads that return at once; called without arguments, none is a str or list method.
AT_ONCE = {"count", "is_visible", "is_hidden", "is_checked", "is_enabled", "is_disabled", "is_editable", "title",
           "content", "all_inner_texts", "all_text_contents", "text_content", "inner_html"}
HERE = Path(__file__).parent


def reads_at_once_in_checks(source: str) -> list[tuple[int, str]]:
    """(line, method) of every argument-less call to a read in AT_ONCE inside an `assert`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            found += [(call.lineno, call.func.attr) for call in ast.walk(node)
                      if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                      and call.func.attr in AT_ONCE and not call.args and not call.keywords]
    return found


def test_no_browser_test_checks_a_page_with_a_read_that_does_not_wait():
    browser_tests = [path for path in sorted(HERE.glob("*.py"))
                     if "playwright" in path.read_text() and path.name != Path(__file__).name]
    assert len(browser_tests) >= 5  # the scan looks where the browser tests are
    found = {path.name: hits for path in browser_tests if (hits := reads_at_once_in_checks(path.read_text()))}
    assert found == {}, "check these with playwright's expect(...), which waits for the page"


def test_the_scan_finds_the_reads_that_failed_under_load():
    # The two checks that failed in clean-clone runs, and one that a person would write next.
    assert reads_at_once_in_checks(
        'assert page.get_by_role("button", name="Continue").count() == 1, page.url\n'
        'assert page.locator("#publication-rule").count() == 1\n'
        'assert phone.title().startswith("Error: ")\n'
    ) == [(1, "count"), (2, "count"), (3, "title")]
    assert reads_at_once_in_checks('assert ["a"].count("a") == 1\n') == []  # a list's count takes an argument
    assert reads_at_once_in_checks('n = page.locator("td").count()\nexpect(page).to_have_title("x")\n') == []
