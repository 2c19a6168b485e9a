"""The plain-text part of an email, from its HTML.

Built on the standard library's ``HTMLParser`` rather than a package: ``html2text`` is
GPL-3.0 (Tenure is Apache-2.0) and writes Markdown (``**bold**``, ``[text](url)``, escaped
punctuation) where a mail reader wants plain prose; ``inscriptis`` would bring lxml for a
job this small. An email body needs little: paragraphs and headings as blank-line
separated blocks, list items with a dash or number, table cells side by side, links as
``text (url)``, images as their alt text, and nothing of ``<style>``/``<head>``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose content is not text a reader sees.
_HIDDEN = frozenset({"head", "style", "script", "title", "template", "noscript"})
#: Elements that start on a new line and are followed by a blank line.
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr"}
)
#: Elements that start on a new line.
_LINES = frozenset(
    {"div", "section", "article", "header", "footer", "tr", "li", "dl", "dt", "dd", "address"}
    | {"center", "main", "nav", "aside", "figure", "figcaption", "form", "tbody", "thead"}
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BREAK = "\n"
_PARAGRAPH = "\n\n"


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [next number] (ol) or [] (ul)
        self.links: list[tuple[str, int]] = []  # href, position in out where the text began
        self.cell_open = False

    # -- output helpers ------------------------------------------------------------------
    def text(self, data: str) -> None:
        if self.hidden:
            return
        if not self.pre:
            data = _SPACES.sub(" ", data)
            if not data.strip() and (not self.out or self.out[-1].endswith((" ", "\n"))):
                return
            if self.out and self.out[-1].endswith("\n"):
                data = data.lstrip()
        self.out.append(data)

    def newline(self, separator: str) -> None:
        """End the current line with at least ``separator``'s newlines (no pile-up)."""
        if self.hidden or not self.out:
            return
        tail = "".join(self.out[-3:])
        have = len(tail) - len(tail.rstrip("\n")) if tail.strip(" ") else len(separator)
        if have < len(separator):
            self.out.append("\n" * (len(separator) - have))

    # -- parser callbacks ----------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _PARAGRAPHS:
            self.newline(_PARAGRAPH)
        elif tag in _LINES:
            self.newline(_BREAK)
        if tag == "pre":
            self.pre += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self.out.append("-" * 40)
            self.newline(_PARAGRAPH)
        elif tag == "ol":
            self.lists.append([int(attributes.get("start") or 1)])
        elif tag == "ul":
            self.lists.append([])
        elif tag == "li":
            counter = self.lists[-1] if self.lists else []
            indent = "  " * max(len(self.lists) - 1, 0)
            if counter:
                self.out.append(f"{indent}{counter[0]}. ")
                counter[0] += 1
            else:
                self.out.append(f"{indent}- ")
        elif tag in ("td", "th"):
            if self.cell_open:
                self.out.append("  ")
            self.cell_open = True
        elif tag == "tr":
            self.cell_open = False
        elif tag == "a":
            self.links.append((attributes.get("href") or "", len(self.out)))
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self.text(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _PARAGRAPHS:
            self.newline(_PARAGRAPH)
        elif tag in _LINES:
            self.newline(_BREAK)
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        elif tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            target = href.removeprefix("mailto:")
            if href and not href.startswith("#") and target != label:
                self.text(f" ({target})" if label else target)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        self.text(data)


def html_to_text(html: str) -> str:
    """Readable plain text of ``html``: blocks separated by blank lines, no markup."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [line.rstrip() for line in "".join(writer.out).split("\n")]
    text = "\n".join(line if line.strip() else "" for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"
