"""A person with a keyboard and no mouse, in Playwright: Tab / Shift+Tab through a page, checking each stop, and
reaching a field or button by Tab to type into it or press it.

`walk(page)` checks what a keyboard user meets on the page as it stands (just loaded): every link, button and form
field is reached by Tab in the page's order and by Shift+Tab in reverse, each shows the GOV.UK focus style (the
focus colour in an outline, a shadow or a background, different from the unfocused look) and is on screen when
focused; nothing else takes focus, and Tab after the last stop leaves the page (no trap).
"""
from __future__ import annotations

import re
from typing import Union

FOCUS_COLOUR = "rgb(255, 221, 0)"  # $govuk-focus-colour

# Tags every element a keyboard user should reach (data-kb = its stop's index; a radio group is one stop) and
# remembers how each looks unfocused. Returns the stops' descriptions.
_TAG = """(focusColour) => {
  const rendered = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility === 'visible';
  const candidates = [...document.querySelectorAll(
      'a[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable]')]
    .filter(e => !e.disabled && e.tabIndex >= 0 && !(e.tagName === 'INPUT' && e.type === 'hidden') && rendered(e));
  const stops = [], radioGroups = new Map();
  for (const e of candidates) {
    if (e.type === 'radio' && e.name) {
      const key = (e.form ? [...document.forms].indexOf(e.form) : -1) + '|' + e.name;
      if (radioGroups.has(key)) { e.setAttribute('data-kb', radioGroups.get(key)); continue; }
      radioGroups.set(key, String(stops.length));
    }
    e.setAttribute('data-kb', String(stops.length));
    stops.push(e);
  }
  window.__kbLook = e => {
    const styled = e.matches('.govuk-radios__input, .govuk-checkboxes__input') && e.labels && e.labels[0];
    const s = styled ? getComputedStyle(e.labels[0], '::before') : getComputedStyle(e);
    return {outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 ? s.outlineColor : '',
            shadow: s.boxShadow, background: s.backgroundColor, border: s.borderColor};
  };
  window.__kbBefore = new Map(candidates.map(e => [e, JSON.stringify(window.__kbLook(e))]));
  window.__kbColour = focusColour;
  return stops.map(e => e.tagName.toLowerCase() + ' "' + (e.innerText || e.value || e.name || '').trim().slice(0, 50) + '"');
}"""

# The focused element: its stop, what it is, whether it is on screen and shows the focus style.
_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const label = e.matches('.govuk-radios__input, .govuk-checkboxes__input') && e.labels && e.labels[0];
  const shown = label || e;
  const box = shown.getBoundingClientRect(), style = getComputedStyle(shown);
  const look = window.__kbLook ? window.__kbLook(e) : null;
  const before = window.__kbBefore ? window.__kbBefore.get(e) : undefined;
  return {
    stop: e.getAttribute('data-kb'),
    what: e.tagName.toLowerCase() + ' "' + (e.innerText || e.value || e.name || '').trim().slice(0, 50) + '"',
    on_screen: box.width >= 1 && box.height >= 1 && box.bottom > 0 && box.right > 0 && box.top < innerHeight
               && box.left < innerWidth && style.visibility === 'visible' && parseFloat(style.opacity) > 0,
    focus_style: !!look && [look.outline, look.shadow, look.background].some(v => v.includes(window.__kbColour))
                 && JSON.stringify(look) !== before,
  };
}"""

# What a person would read as the focused element's name: a field's label, else its text.
_NAME = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return '';
  const label = e.labels && e.labels[0];
  return ((label ? label.innerText : e.innerText || e.value || '') || '').replace(/\\s+/g, ' ').trim();
}"""


def walk(page) -> int:
    """Tab through the page as loaded, then Shift+Tab back (see the module's docstring); the number of stops."""
    stops = page.evaluate(_TAG, FOCUS_COLOUR)
    where = page.url
    assert stops, f"{where}: nothing to reach by keyboard"
    for index, expected in enumerate(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        assert focused is not None, f"{where}: Tab {index + 1} left the page before reaching {expected}"
        assert focused["stop"] == str(index), (
            f"{where}: Tab {index + 1} reached {focused['what']} (stop {focused['stop']}), expected {expected}")
        assert focused["on_screen"], f"{where}: {focused['what']} has focus but cannot be seen"
        assert focused["focus_style"], f"{where}: {focused['what']} shows no focus style"
    page.keyboard.press("Tab")  # past the last: out of the page (or round to its first stop), never held
    after = page.evaluate(_FOCUSED)
    assert after is None or after["stop"] == "0", f"{where}: Tab after the last stop went to {after['what']}"
    seen = []
    for _ in range(len(stops) + 2):
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate(_FOCUSED)
        seen.append(focused["stop"] if focused else None)
    last = str(len(stops) - 1)
    assert last in seen, f"{where}: Shift+Tab did not come back to the last stop"
    backwards = seen[seen.index(last):][:len(stops)]
    assert backwards == [str(i) for i in reversed(range(len(stops)))], f"{where}: Shift+Tab order {backwards}"
    return len(stops)


Name = Union[str, "re.Pattern[str]"]


def tab_to(page, name: Name, presses: int = 200) -> None:
    """Press Tab until the focused element's label or text is `name` (a string, or a pattern to search)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        shown = page.evaluate(_NAME)
        if (shown == name) if isinstance(name, str) else name.search(shown):
            return
    raise AssertionError(f"{page.url}: {name!r} cannot be reached with Tab")


def fill(page, name: Name, text: str) -> None:
    """Tab to a field and type over what it holds."""
    tab_to(page, name)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def press(page, name: Name, key: str = "Enter") -> None:
    """Tab to a link or button and press it (Enter, or Space for a button or a checkbox)."""
    tab_to(page, name)
    page.keyboard.press(key)

