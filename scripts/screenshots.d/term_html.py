#!/usr/bin/env python3
"""Turns a terminal screen captured by `tmux capture-pane -e -p -N` into an HTML
page that draws it cell for cell: every row the full width, every character in
a cell of its own (so a glyph taken from a fallback font cannot shift the
columns after it), colours from the 16-colour ANSI palette the console uses.

    term_html.py SCREEN.ansi OUT.html --cols 200 --rows 50 [--title TEXT]

Prints the page's size in CSS pixels (`WIDTHxHEIGHT`) for the screenshot.
"""

import argparse
import html
import re
import sys
import unicodedata

# A dark palette (xterm's layout: 0-7 normal, 8-15 bright), chosen for contrast
# on the background below; the console itself only names ANSI colours.
PALETTE = [
    "#1d1f21", "#e05561", "#8cc265", "#d8b35f", "#4aa5f0", "#c162de", "#42b3c2", "#c8ccd4",
    "#5c6370", "#ff616e", "#a5e075", "#f0c46a", "#4dc4ff", "#de73ff", "#4cd1e0", "#e6e6e6",
]
BACKGROUND = "#15171c"
FOREGROUND = "#c8ccd4"

FONT_PX = 14
# DejaVu Sans Mono advances 1233/2048 em (8.43 px at 14 px) and its glyphs are
# 1.164 em tall. Cells are whole pixels, 9 x 16 (letter-spacing makes up the
# advance), so every stroke lands on the same pixel offset in every cell and
# box-drawing lines join without seams.
CELL_W = 9
CELL_H = 16
LETTER_SPACING = round(CELL_W - FONT_PX * 1233 / 2048, 4)
PAD = 12

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-ln-z]|\][^\x07]*\x07|[()][0-9A-Za-z])")


def xterm256(n):
    """The colour of xterm's 256-colour index n."""
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        r, g, b = steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
        return f"#{r:02x}{g:02x}{b:02x}"
    v = 8 + 10 * (n - 232)
    return f"#{v:02x}{v:02x}{v:02x}"


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def key(self):
        return (self.fg, self.bg, self.bold, self.dim, self.italic, self.underline, self.reverse)

    def apply(self, params):
        codes = [int(p) if p else 0 for p in re.split(r"[;:]", params)] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = PALETTE[c - 30]
            elif 40 <= c <= 47:
                self.bg = PALETTE[c - 40]
            elif 90 <= c <= 97:
                self.fg = PALETTE[c - 90 + 8]
            elif 100 <= c <= 107:
                self.bg = PALETTE[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    colour = xterm256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour = "#{:02x}{:02x}{:02x}".format(*codes[i + 2 : i + 5])
                    i += 4
                else:
                    raise ValueError(f"unsupported colour sequence {params!r}")
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            # Other attributes (blink, strike-through) do not occur in the console.
            i += 1

    def css(self, key):
        fg, bg, bold, dim, italic, underline, reverse = key
        if bold and fg in PALETTE[:8]:
            # Terminals show bold ANSI colours bright; so does this page.
            fg = PALETTE[PALETTE.index(fg) + 8]
        fg, bg = fg or FOREGROUND, bg or BACKGROUND
        if reverse:
            fg, bg = bg, fg
        rules = []
        if fg != FOREGROUND:
            rules.append(f"color:{fg}")
        if bg != BACKGROUND:
            rules.append(f"background:{bg}")
        if bold:
            rules.append("font-weight:bold")
        if dim:
            rules.append("opacity:.7")
        if italic:
            rules.append("font-style:italic")
        if underline:
            rules.append("text-decoration:underline")
        return ";".join(rules)


def cells(line, style):
    """Splits one captured line into (character, style key) cells."""
    out = []
    pos = 0
    line = OTHER_ESCAPE.sub("", line)
    for m in SGR.finditer(line):
        for ch in line[pos : m.start()]:
            out.append((ch, style.key()))
        style.apply(m.group(1))
        pos = m.end()
    for ch in line[pos:]:
        out.append((ch, style.key()))
    return out


def is_plain(ch):
    """Characters DejaVu Sans Mono draws itself at exactly one cell: ASCII, box
    drawing and block elements. Anything else (braille among them, which only
    the proportional DejaVu Sans has) is put in a cell of its own."""
    o = ord(ch)
    return o < 0x7F or 0x2500 <= o <= 0x259F


def render(screen, cols, rows, title):
    style = Style()
    classes = {}
    body = []
    lines = screen.split("\n")
    if len(lines) > rows and lines[rows:] == [""] * (len(lines) - rows):
        lines = lines[:rows]
    if len(lines) > rows:
        raise ValueError(f"the capture has {len(lines)} rows; expected {rows}")
    lines += [""] * (rows - len(lines))
    for n, line in enumerate(lines, 1):
        row = cells(line, style)
        width = 0
        runs = []  # [class, text]
        for ch, key in row:
            if ch == "\t":
                raise ValueError(f"row {n} holds a tab; capture with tmux, which expands them")
            css = style.css(key)
            cls = classes.setdefault(css, f"s{len(classes)}") if css else ""
            w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
            width += w
            text = html.escape(ch)
            if not is_plain(ch):
                text = f'<i class="w{w}">{text}</i>'
            if runs and runs[-1][0] == cls:
                runs[-1][1] += text
            else:
                runs.append([cls, text])
        if width > cols:
            raise ValueError(f"row {n} is {width} cells wide; expected at most {cols}")
        runs.append(["", " " * (cols - width)])
        body.append(
            "".join(f'<span class="{c}">{t}</span>' if c else t for c, t in runs)
        )
    width_px = round(cols * CELL_W + 2 * PAD)
    height_px = round(rows * CELL_H + 2 * PAD)
    rules = "\n".join(f".{c}{{{css}}}" for css, c in classes.items())
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
html,body{{margin:0;background:{BACKGROUND};}}
pre{{margin:0;padding:{PAD}px;font:{FONT_PX}px/{CELL_H}px "DejaVu Sans Mono",monospace;
color:{FOREGROUND};background:{BACKGROUND};white-space:pre;font-variant-ligatures:none;
letter-spacing:{LETTER_SPACING}px;}}
i{{display:inline-block;font-style:normal;text-align:center;overflow:hidden;vertical-align:top;height:{CELL_H}px;letter-spacing:0}}
i.w1{{width:{CELL_W}px}} i.w2{{width:{2 * CELL_W}px}}
{rules}
</style></head>
<body><pre>{chr(10).join(body)}</pre></body></html>
"""
    return page, width_px, height_px


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("screen")
    parser.add_argument("out")
    parser.add_argument("--cols", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--title", default="njtui")
    args = parser.parse_args()
    with open(args.screen, encoding="utf-8") as f:
        screen = f.read()
    try:
        page, w, h = render(screen, args.cols, args.rows, args.title)
    except ValueError as e:
        print(f"term_html: {args.screen}: {e}", file=sys.stderr)
        sys.exit(2)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(page)
    print(f"{w}x{h}")


if __name__ == "__main__":
    main()
