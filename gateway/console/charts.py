"""Statistics charts for the console, rendered on the server as SVG with pygal (no script, no
CDN: the console works offline). Fonts are the clerk's machine's own (deploy/README.md)."""
import pygal
from pygal.style import Style

FONT = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif"
STYLE = Style(background="white", plot_background="white", font_family=FONT,
              label_font_family=FONT, major_label_font_family=FONT, value_font_family=FONT,
              title_font_family=FONT, legend_font_family=FONT, tooltip_font_family=FONT,
              colors=("#1f6fb2", "#2e9d5b", "#d08a1a", "#b33a3a", "#6a4fb3"),
              title_font_size=18, label_font_size=13, major_label_font_size=13,
              legend_font_size=13, value_font_size=12, no_data_font_size=24)


def _config(chart_class, title: str, **options):
    # js=[]: no script of pygal's own (it would come from a CDN); the SVG stands alone.
    return chart_class(title=title, style=STYLE, js=[], width=720, height=360,
                       disable_xml_declaration=False, print_values=False,
                       legend_at_bottom=True, truncate_legend=-1, truncate_label=-1,
                       no_data_text="暂无数据", **options)


def render(chart) -> bytes:
    return chart.render(is_unicode=True).encode("utf-8")


def monthly_volume(months: list[str], received: list[int], completed: list[int]) -> bytes:
    chart = _config(pygal.Bar, "按月受理与办结（件）", x_label_rotation=0)
    chart.x_labels = months
    chart.add("受理", received)
    chart.add("办结", completed)
    return render(chart)


def on_time_rate(labels: list[str], rates: list[float | None], title: str) -> bytes:
    chart = _config(pygal.Bar, title, range=(0, 100), value_formatter=lambda v: f"{v:.0f}%")
    chart.x_labels = labels
    chart.add("按时办结率", [None if r is None else round(r * 100, 1) for r in rates])
    return render(chart)


def handling_hours(labels: list[str], hours: list[float | None]) -> bytes:
    chart = _config(pygal.Bar, "各类别办理用时中位数（小时）",
                    value_formatter=lambda v: f"{v:.1f}")
    chart.x_labels = labels
    chart.add("用时中位数", hours)
    return render(chart)


def ratings(labels: list[str], averages: list[float]) -> bytes:
    chart = _config(pygal.Bar, "好差评平均分（满分5）", range=(0, 5),
                    value_formatter=lambda v: f"{v:.2f}")
    chart.x_labels = labels
    chart.add("平均分", averages)
    return render(chart)
