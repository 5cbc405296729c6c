"""Where a table (or the whole Mechanism) stands in a reporting round: who reported, who is
missing, the statuses, and the pledges per objective; as text and as a chart image."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import N_, _
from handlers.markup import bold, esc
from storage import pledges
from storage.pledges import STATUSES, PledgeRound

STATUS_LABELS: dict[str, str] = {
    "on_track": N_("on track"),
    "delayed": N_("delayed"),
    "completed": N_("completed"),
    "not_started": N_("not started"),
    "withdrawn": N_("withdrawn"),
}
UNREPORTED = "unreported"
_COLOURS = {
    "on_track": "#2e7d32", "delayed": "#f9a825", "completed": "#1565c0",
    "not_started": "#9e9e9e", "withdrawn": "#c62828", UNREPORTED: "#e0e0e0",
}


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else _("not reported")


@dataclass
class Standing:
    """One round's figures for a set of organisations."""

    period: str
    label: str
    reported: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    by_objective: dict[int, Counter[str]] = field(default_factory=dict)


async def standing(
    session: AsyncSession, tables: Collection[str] | None, found: PledgeRound, label: str
) -> Standing:
    """The figures of ``found`` for organisations approved in ``tables`` (None: all)."""
    latest = await pledges.latest_reports(session, found.id)
    result = Standing(found.period, label)
    pending: dict[str, bool] = {}
    for organisation, pledge in await pledges.table_pledges(session, tables):
        report = latest.get(pledge.id)
        if report is None and pledge.status != pledges.ACTIVE:
            continue
        status = report.status if report is not None else UNREPORTED
        result.statuses[status] += 1
        for objective in pledge.objectives:
            result.by_objective.setdefault(int(objective), Counter())[status] += 1
        if pledge.status == pledges.ACTIVE or report is not None:
            pending[organisation.name] = pending.get(organisation.name, False) or report is None
    result.reported = sorted(name for name, missing in pending.items() if not missing)
    result.missing = sorted(name for name, missing in pending.items() if missing)
    return result


def standing_text(figures: Standing) -> str:
    lines = [
        bold(_("Pledge reporting {period}: {label}").format(period=figures.period, label=figures.label)),
        esc(_("Organisations that reported: {done} of {total}.").format(
            done=len(figures.reported), total=len(figures.reported) + len(figures.missing)
        )),
    ]
    if figures.missing:
        lines.append(esc(_("Not reported yet: {names}").format(names=", ".join(figures.missing))))
    if figures.statuses:
        lines += ["", bold(_("Pledges by status"))]
        lines += [
            esc(f"• {status_label(status)}: {figures.statuses[status]}")
            for status in (*STATUSES, UNREPORTED)
            if figures.statuses[status]
        ]
    if figures.by_objective:
        lines += ["", bold(_("Pledges by objective"))]
        lines += [
            esc(_("• Objective {number}: {count}").format(number=number, count=sum(counts.values())))
            for number, counts in sorted(figures.by_objective.items())
        ]
    else:
        lines.append(esc(_("No pledges on record.")))
    return "\n".join(lines)


def standing_chart(figures: Standing) -> bytes:
    """A stacked bar chart of pledges per objective and status, as PNG (matplotlib is imported
    here, only when a chart is drawn: it is slow to load and the bot rarely needs it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    objectives = sorted(figures.by_objective)
    positions = list(range(len(objectives)))
    bottom = [0] * len(objectives)
    for status in (*STATUSES, UNREPORTED):
        heights = [figures.by_objective[number][status] for number in objectives]
        if any(heights):
            axes.bar(positions, heights, bottom=bottom, color=_COLOURS[status], label=status_label(status))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_xticks(positions, [str(number) for number in objectives])
    axes.set_xlabel(_("GCM objective"))
    axes.set_ylabel(_("Pledges"))
    axes.set_title(_("Pledge reporting {period}: {label}").format(period=figures.period, label=figures.label))
    if objectives:
        axes.legend(fontsize="small")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
