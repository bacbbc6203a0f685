"""A table built once — a stable key, a title, headers, rows of text — and written in any
tabulate format, so the terminal, Markdown, LaTeX and HTML views share the same rows.

The key names what a table holds ("forward", "error", "backward:2", "before-after", …) so that a
view that picks tables (the walkthrough, the HTML player) never depends on their titles.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabulate import tabulate

MARKDOWN_FORMATS = ("github", "pipe")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""  # a line under the table
    key: str = ""  # what the table holds, independent of its title


def format_tables(tables: list[Table], fmt: str) -> str:
    """Tables in a tabulate format; in Markdown formats (github, pipe) each title is bold and
    set apart by a blank line, so the table after it is not swallowed by the paragraph."""
    markdown = fmt in MARKDOWN_FORMATS
    parts = []
    for table in tables:
        body = tabulate(table.rows, headers=table.headers, tablefmt=fmt, disable_numparse=True,
                        colalign=_align(table))
        if table.note:  # in Markdown a line right under a table would become one of its rows
            body += ("\n\n" if markdown else "\n") + table.note
        if not table.title:
            parts.append(body)
        elif markdown:
            parts.append(f"**{table.title.strip('*')}**\n\n{body}")
        else:
            parts.append(f"{table.title}\n{body}")
    return "\n\n".join(parts)


def _numeric(cell: str) -> bool:
    try:
        float(cell.replace("(frozen)", "").strip() or "0")
        return True
    except ValueError:
        return False


def _align(table: Table) -> list[str]:
    """A column is right-aligned when its cells look like numbers (or are empty)."""
    return ["right" if all(_numeric(r[i]) for r in table.rows) else "left"
            for i in range(len(table.headers))]
