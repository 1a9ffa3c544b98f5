"""A small, safe Markdown-to-HTML converter for the runbooks shown in the console.

The runbooks are files in the repository, but whoever can change a file can still put markup in it, and the
console shows it to operators who are logged in: so nothing of the input becomes markup except what this module
writes itself. Supported: ATX headings, paragraphs, bullet and numbered lists (with continuation lines, nested
lists and code blocks inside items), block quotes, fenced code blocks, inline code, **bold**, *italic*, and links
to other runbooks or to http(s) addresses. Everything else is text, escaped. A link to anything else (javascript:,
data:, a path outside the runbooks, a protocol-relative URL) keeps its text and loses its link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from urllib.parse import urlsplit

from markupsafe import Markup

RunbookHref = Callable[[str], str]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_BULLET = re.compile(r"^([-*+])[ \t]+")
_NUMBERED = re.compile(r"^(\d{1,9})[.)][ \t]+")
_QUOTE = re.compile(r"^>[ \t]?")
# A runbook named the way the repository names them: `CODE.md`, `runbooks/CODE.md`, an optional #anchor.
_RUNBOOK_LINK = re.compile(r"^(?:\./)?(?:runbooks/)?(?P<name>[A-Za-z0-9_-]{1,64}\.md)"
                           r"(?P<anchor>#[A-Za-z0-9_-]{1,64})?$")
_HTTP_LINK = re.compile(r"^https?://[^\s\"'<>`\\]+$", re.IGNORECASE)
# Inline tokens, in the raw text: code spans (any run of backticks, closed by the same run) and links.
_INLINE = re.compile(r"(?P<code>(?P<ticks>`+)(?P<body>.+?)(?P=ticks))"
                     r"|(?P<link>\[(?P<text>[^\[\]]*)\]\((?P<url>[^()\s]*)\))")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")


def default_runbook_href(name: str) -> str:
    return f"/runbooks/{name}"


def render_markdown(text: str, *, runbook_href: RunbookHref = default_runbook_href,
                    heading_shift: int = 0) -> Markup:
    """`text` as HTML. `runbook_href` turns a runbook's file name (`PORTAL_DOWN.md`, with its #anchor if any)
    into the address the console shows it at; `heading_shift` demotes headings (a runbook's `#` under a page's
    own heading)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    return Markup("\n".join(_blocks(lines, _Inline(runbook_href), heading_shift)))


class _Inline:
    def __init__(self, runbook_href: RunbookHref) -> None:
        self.runbook_href = runbook_href

    def __call__(self, text: str, *, links: bool = True) -> str:
        out: list[str] = []
        position = 0
        for match in _INLINE.finditer(text):
            if match["link"] is not None and not links:
                continue  # a link inside a link's text stays text
            out.append(_emphasis(escape(text[position:match.start()], quote=True)))
            position = match.end()
            if match["code"] is not None:
                out.append(f"<code>{escape(match['body'].strip(), quote=True)}</code>")
            else:
                out.append(self._link(match["text"], match["url"]))
        out.append(_emphasis(escape(text[position:], quote=True)))
        return "".join(out)

    def _link(self, text: str, url: str) -> str:
        label = self(text, links=False) if text else escape(url, quote=True)
        href = safe_href(url, self.runbook_href)
        if href is None:
            return label
        extra = ' rel="noopener noreferrer"' if href.lower().startswith(("http://", "https://")) else ""
        return f'<a href="{escape(href, quote=True)}"{extra}>{label}</a>'


def safe_href(url: str, runbook_href: RunbookHref = default_runbook_href) -> str | None:
    """Where a link in a runbook may point: another runbook (through `runbook_href`) or an http(s) address with a
    host. None for anything else."""
    runbook = _RUNBOOK_LINK.match(url)
    if runbook:
        return runbook_href(runbook["name"] + (runbook["anchor"] or ""))
    if _HTTP_LINK.match(url):
        parts = urlsplit(url)
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            return url
    return None


def _emphasis(escaped: str) -> str:
    # Runs on already escaped text: the tags added here are the only markup in it.
    return _EM.sub(r"<em>\1</em>", _STRONG.sub(r"<strong>\1</strong>", escaped))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _dedent(lines: list[str], width: int) -> list[str]:
    return [line[min(width, _indent(line)):] for line in lines]


def _list_marker(line: str) -> tuple[str, re.Match[str]] | None:
    stripped = line.lstrip(" ")
    for kind, pattern in (("ul", _BULLET), ("ol", _NUMBERED)):
        match = pattern.match(stripped)
        if match:
            return kind, match
    return None


def _starts_block(line: str) -> bool:
    stripped = line.lstrip(" ")
    return bool(_HEADING.match(stripped) or _FENCE.match(stripped) or _QUOTE.match(stripped)
                or _list_marker(line))


def _blocks(lines: list[str], inline: _Inline, shift: int) -> list[str]:
    html: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        heading = _HEADING.match(stripped)
        if heading:
            level = min(6, len(heading[1]) + shift)
            html.append(f"<h{level}>{inline(heading[2])}</h{level}>")
            i += 1
            continue
        fence = _FENCE.match(stripped)
        if fence:
            i = _fenced(lines, i, fence[1], html)
            continue
        if _QUOTE.match(line.lstrip(" ")):
            quoted: list[str] = []
            while i < len(lines) and _QUOTE.match(lines[i].lstrip(" ")):
                quoted.append(_QUOTE.sub("", lines[i].lstrip(" "), count=1))
                i += 1
            html.append("<blockquote>" + "\n".join(_blocks(quoted, inline, shift)) + "</blockquote>")
            continue
        if _list_marker(line):
            i = _list(lines, i, inline, shift, html)
            continue
        paragraph = [stripped]
        i += 1
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
            paragraph.append(lines[i].strip())
            i += 1
        html.append(f"<p>{inline(' '.join(paragraph))}</p>")
    return html


def _fenced(lines: list[str], start: int, fence: str, html: list[str]) -> int:
    width = _indent(lines[start])
    body: list[str] = []
    i = start + 1
    while i < len(lines) and not lines[i].strip().startswith(fence):
        body.append(lines[i])
        i += 1
    # The info string after the opening fence (a language) is not used: no class names from the input.
    html.append("<pre><code>" + escape("\n".join(_dedent(body, width)), quote=True) + "</code></pre>")
    return i + 1  # past the closing fence (or the end: an unclosed fence runs to the end of the text)


def _list(lines: list[str], start: int, inline: _Inline, shift: int, html: list[str]) -> int:
    marked = _list_marker(lines[start])
    assert marked is not None
    kind = marked[0]
    base = _indent(lines[start])
    first_number = int(marked[1][1]) if kind == "ol" else 1
    items: list[list[str]] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            # A loose list: blank lines between its items.
            nxt = next((j for j in range(i, len(lines)) if lines[j].strip()), None)
            marker = _list_marker(lines[nxt]) if nxt is not None else None
            if nxt is None or marker is None or marker[0] != kind or _indent(lines[nxt]) != base:
                break
            i = nxt
            line = lines[i]
        found = _list_marker(line)
        if found is not None and _indent(line) == base and found[0] == kind:
            width = base + found[1].end()
            body = [line[width:]]
            i += 1
            while i < len(lines):
                following = lines[i]
                if not following.strip():
                    # A blank line ends the item unless the item goes on, indented, after it.
                    goes_on = next((x for x in lines[i:] if x.strip()), None)
                    if goes_on is None or _indent(goes_on) <= base:
                        break
                    body.append("")
                    i += 1
                    continue
                if _indent(following) <= base and (_starts_block(following) or _indent(following) < base):
                    break
                body.append(following[min(width, _indent(following)):] if _indent(following) > base
                            else following.strip())
                i += 1
            items.append(body)
            continue
        break
    start_attr = f' start="{first_number}"' if kind == "ol" and first_number != 1 else ""
    html.append(f"<{kind}{start_attr}>")
    for body in items:
        inner = _blocks(body, inline, shift)
        # A one-paragraph item reads better without the <p> around it.
        if len(inner) == 1 and inner[0].startswith("<p>") and inner[0].endswith("</p>"):
            inner = [inner[0][3:-4]]
        html.append("<li>" + "\n".join(inner) + "</li>")
    html.append(f"</{kind}>")
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i
