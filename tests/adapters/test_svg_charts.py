import re
import xml.etree.ElementTree as ET

from chalicelib.adapters.svg_charts import Bar, Series, grouped_bar_chart, horizontal_bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_a_funnel_chart_is_well_formed_accessible_svg_with_one_bar_per_step_to_scale():
    root = parse(horizontal_bar_chart("funnel-all", "Recruitment funnel", "Applied 40, members 10",
                                      [Bar("Applied", 40, "40"), Bar("Members", 10, "10")]))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "funnel-all-title funnel-all-desc"
    assert root.find(f"{SVG}title").text == "Recruitment funnel"
    assert root.find(f"{SVG}desc").get("id") == "funnel-all-desc"
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == 4 * widths[1]
    assert "Applied" in texts(root) and "40" in texts(root)


def test_a_suppressed_value_shows_under_five_and_draws_no_bar():
    root = parse(grouped_bar_chart(
        "edi-ethnicity", "Ethnic group", "Shares", ["White", "Black"],
        [Series("Bristol IAG", (Bar("White", 80.0, "80%"), Bar("Black", None, "<5"))),
         Series("Population", (Bar("White", 81.7, "81.7%"), Bar("Black", 4.0, "4%")))]))
    assert "<5" in texts(root)
    bars = [r for r in root.iter(f"{SVG}rect") if float(r.get("height")) > 14]  # legend keys are 14 high
    assert len(bars) == 3  # white twice, black only for the population


def test_text_is_escaped_and_nothing_is_fetched_or_run():
    svg = horizontal_bar_chart("x", "Tom & Jerry <script>", "a \"quoted\" <desc>", [Bar("<b>", 1, "<5")])
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "Tom & Jerry <script>"
    assert "<script" not in svg and not re.search(r"(href|src)=", svg) and "on" + "load" not in svg


def test_long_labels_wrap_onto_two_lines_instead_of_running_off_the_chart():
    root = parse(horizontal_bar_chart("x", "t", "d", [Bar("Black, Black British, Caribbean or African", 3, "3")]))
    label = next(t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end")
    assert len(list(label)) == 2
