"""The reports' HTML: Jinja2 templates (``analysis/templates``) and figures inlined as data."""

from __future__ import annotations

import base64
import io
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from matplotlib.figure import Figure

# 1.5 device pixels per CSS pixel (96 per inch): sharp on most screens, one render per figure.
PNG_DPI = 144


def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("analysis", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["safe_html"] = Markup
    return environment


def render(template: str, **context: Any) -> str:
    """Render ``analysis/templates/<template>`` with ``context`` (autoescaped)."""
    return _environment().get_template(template).render(**context)


def png(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def inline_figure(figure: Figure, data: bytes | None = None) -> dict[str, Any]:
    """A PNG data URI for the page (``data``: the figure's PNG if already rendered) and the
    figure's size in CSS pixels."""
    width, height = figure.get_size_inches()
    return {"src": data_uri(data if data is not None else png(figure), "image/png"),
            "width": round(width * 96), "height": round(height * 96)}
