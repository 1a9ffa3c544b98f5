"""The console's Markdown converter: what the runbooks use comes out as HTML, and nothing in the input becomes
markup of its own — hostile input is read by a real HTML parser and must show no element or attribute the
converter did not write."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot.console.markdown import render_markdown, safe_href
from bot.paths import RUNBOOKS_DIR

ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "pre", "code", "strong", "em", "a",
                "blockquote"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser


def assert_only_own_markup(html: str) -> _Collect:
    parsed = parse(html)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            if tag == "a":
                assert name in ("href", "rel"), (name, html)
                if name == "href":
                    assert value is not None and (value.startswith(("http://", "https://", "/runbooks/"))), value
            elif tag == "ol":
                assert name == "start" and value is not None and value.isdigit(), (name, value)
            else:
                raise AssertionError(f"attribute {name}={value!r} on <{tag}> in {html}")
    return parsed


def test_the_runbook_constructs() -> None:
    text = """# PORTAL_DOWN — portal unreachable

System error · retried. Catalogue: "Portalen svarar inte".

## What to check
1. `casebot status`: which portal,
   how many cases.
2. From the robot's host:
   ```
   curl -s <portal-url>/healthz
   ```
3. See [LOGIN_FAILED](LOGIN_FAILED.md) and [the vendor](https://vendor.example/status).

- **Bold** and *italic* words
- nested:
  - inner item

> quoted `code`
"""
    html = str(render_markdown(text, heading_shift=1))
    assert "<h2>PORTAL_DOWN — portal unreachable</h2>" in html
    assert "<h3>What to check</h3>" in html
    assert "<li><code>casebot status</code>: which portal, how many cases.</li>" in html
    assert "<pre><code>curl -s &lt;portal-url&gt;/healthz</code></pre>" in html
    assert '<a href="/runbooks/LOGIN_FAILED.md">LOGIN_FAILED</a>' in html
    assert '<a href="https://vendor.example/status" rel="noopener noreferrer">the vendor</a>' in html
    assert "<strong>Bold</strong> and <em>italic</em> words" in html
    assert html.count("<ul>") == 2 and "<li>inner item</li>" in html
    assert "<blockquote><p>quoted <code>code</code></p></blockquote>" in html
    assert html.count("<ol>") == 1 and html.count("<li>") == 6
    assert_only_own_markup(html)


def test_a_loose_numbered_list_stays_one_list_and_keeps_its_start() -> None:
    html = str(render_markdown("3. three\n\n4. four\n\nafter"))
    assert html.startswith('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>')
    assert html.endswith("<p>after</p>")


def test_every_runbook_renders_with_only_its_own_markup() -> None:
    for path in sorted(RUNBOOKS_DIR.glob("*.md")):
        html = str(render_markdown(path.read_text(encoding="utf-8"), runbook_href=lambda n: f"/runbooks/{n}"))
        parsed = assert_only_own_markup(html)
        assert parsed.tags[0][0] == "h1", path
        assert "<script" not in html


HOSTILE = [
    "<script>alert(1)</script>",
    "# <img src=x onerror=alert(1)>",
    "- <iframe src='https://evil.example'></iframe>",
    "`</code><script>alert(1)</script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](//evil.example/x.md)",
    "[click](../../etc/passwd.md)",
    "[click](/etc/passwd)",
    '[click](https://ok.example/"onmouseover="alert(1))',
    "[click](https://ok.example/x' onmouseover='alert(1))",
    '[<b onclick="x">bold</b>](https://ok.example)',
    "**<svg onload=alert(1)>**",
    '*"><script>alert(1)</script>*',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href=\"javascript:alert(1)\">x</a>",
    "> <style>body{display:none}</style>",
    "```html onload=alert(1)\n<x>\n```",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_becomes_markup(text: str) -> None:
    html = str(render_markdown(text))
    parsed = assert_only_own_markup(html)
    assert not any(tag in ("script", "img", "iframe", "svg", "style", "b") for tag, _ in parsed.tags)
    assert "javascript:" not in " ".join(v or "" for _, attrs in parsed.tags for _, v in attrs).lower()
    # Whatever was dropped as markup is still there as text, so an operator sees what the file says.
    # (Not a fence's info string: the converter drops it, it names a language.)
    if "alert(1)" in text and "base64" not in text and not text.startswith("```html"):
        assert "alert(1)" in "".join(parsed.text)


def test_escaped_entities_stay_text() -> None:
    # `&lt;` in the file is shown as the five characters, not turned into a `<` that could start a tag.
    assert str(render_markdown("&lt;b&gt;")) == "<p>&amp;lt;b&amp;gt;</p>"


@pytest.mark.parametrize(("url", "expected"), [
    ("PORTAL_DOWN.md", "/console/runbooks/PORTAL_DOWN.md"),
    ("runbooks/PORTAL_DOWN.md#escalate-to", "/console/runbooks/PORTAL_DOWN.md#escalate-to"),
    ("https://example.org/a?b=c", "https://example.org/a?b=c"),
    ("http://example.org", "http://example.org"),
    ("ftp://example.org/x", None),
    ("https://", None),
    ("mailto:it@kommun.example", None),
    ("javascript:alert(1)", None),
    ("PORTAL_DOWN.md/../../x.md", None),
    ("", None),
])
def test_safe_href(url: str, expected: str | None) -> None:
    assert safe_href(url, lambda name: f"/console/runbooks/{name}") == expected
