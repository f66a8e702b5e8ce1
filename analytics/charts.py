"""A follower-history chart as inline SVG: rendered on the server, no JavaScript, no CDN."""

from __future__ import annotations

from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD = 640, 180, 28


def follower_chart_svg(points: list[tuple[datetime, int]], title: str = "Followers") -> SafeString:
    """A polyline of (time, followers); an explanatory line when there is nothing to draw yet."""
    points = [(t, v) for t, v in points if v is not None]
    if not points:
        return format_html("<h2>{}</h2><p>No follower history yet: it appears after the first analytics sync.</p>", title)
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    low, high = min(v for _, v in points), max(v for _, v in points)
    span_t, span_v = (t1 - t0) or 1.0, (high - low) or 1

    def xy(t: datetime, v: int) -> str:
        x = PAD + (t.timestamp() - t0) / span_t * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - (v - low) / span_v * (HEIGHT - 2 * PAD)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(t, v) for t, v in points)
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="2.5"><title>{}: {}</title></circle>',
                            ((*xy(t, v).split(","), f"{t:%Y-%m-%d %H:%M}", v) for t, v in points))
    return format_html(
        '<h2>{title}</h2><svg role="img" aria-label="{title}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'style="max-width:100%;background:#fafafa;border:1px solid #ddd">'
        '<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{line}"/><g fill="#2b6cb0">{dots}</g>'
        '<text x="{pad}" y="16" font-size="12">{high}</text><text x="{pad}" y="{bottom}" font-size="12">{low}</text>'
        '<text x="{right}" y="{bottom}" font-size="12" text-anchor="end">{last}</text></svg>',
        title=title, w=WIDTH, h=HEIGHT, line=line, dots=dots, pad=PAD, high=high, low=low,
        bottom=HEIGHT - 6, right=WIDTH - PAD, last=f"{points[-1][0]:%Y-%m-%d}",
    )


def account_follower_panel(account) -> SafeString:
    from .models import AccountMetricSnapshot

    rows = AccountMetricSnapshot.objects.filter(account=account).order_by("captured_at").values_list("captured_at", "followers")
    return follower_chart_svg(list(rows)[-500:], title="Follower history")
