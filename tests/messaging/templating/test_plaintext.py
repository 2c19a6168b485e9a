"""The plain-text part generated from the HTML."""

from __future__ import annotations

from tenure.messaging.templating.plaintext import html_to_text


def test_blocks_lists_tables_and_links():
    html = """<html><head><title>Ignored</title><style>p { color: red }</style></head>
    <body><h1>Hello   Ada</h1>
    <p>Thanks for your <b>order</b> &amp; welcome.<br>Second line</p>
    <ul><li>One</li><li>Two <a href="https://shop.test/b">details</a></li></ul>
    <ol start="3"><li>Third</li><li>Fourth</li></ol>
    <table><tr><td>Book</td><td>$5.00</td></tr><tr><td>CD</td><td>$1.00</td></tr></table>
    <p><a href="https://shop.test">https://shop.test</a> <a href="mailto:a@shop.test">Write</a>
    <a href="#top">top</a> <img src="logo.png" alt="Shop logo"></p>
    <pre>  kept
   as is</pre></body></html>"""
    assert html_to_text(html) == (
        "Hello Ada\n\n"
        "Thanks for your order & welcome.\nSecond line\n\n"
        "- One\n- Two details (https://shop.test/b)\n\n"
        "3. Third\n4. Fourth\n\n"
        "Book  $5.00\nCD  $1.00\n\n"
        "https://shop.test Write (a@shop.test) top Shop logo\n\n"
        "  kept\n   as is\n"
    )


def test_no_markup_or_style_survives():
    text = html_to_text('<div style="x"><script>alert(1)</script><p>a &lt;b&gt;</p></div>')
    assert text == "a <b>\n"
