"""Plausible reports for the statistics tests and the benchmark: seeded, so repeatable.

Proportions loosely follow the surveys in shared/domain.md: most reports by staff, some
by council members and aldermen, rarely the mayor; verbal aggression and threatening to
go higher up most common; face to face and by phone most often.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flows.model import Channel, Role
from flows.statistics import DEFAULT_WORK_PROCESSES, CheckInAnswer, Form, Perpetrator, ReportFacts, SurveyAnswer

DEPARTMENTS = ("Toezicht en Handhaving", "Werk en Inkomen", "Sociaal domein", "Burgerzaken", "Vergunningen")


def generated_reports(count: int, seed: int, start: datetime, days: int) -> list[ReportFacts]:
    rng = random.Random(seed)
    forms, form_weights = list(Form), [80, 76, 34, 37, 8, 10, 3, 6]
    roles, role_weights = list(Role), [85, 6, 3, 1, 5]
    channels, channel_weights = list(Channel), [50, 25, 12, 8, 3, 2]
    reports = []
    for _ in range(count):
        registered = rng.random() < 0.55
        chosen = {rng.choices(forms, form_weights)[0] for _ in range(rng.choice((1, 1, 2, 3)))}
        reports.append(
            ReportFacts(
                submitted_at=start + timedelta(seconds=rng.randrange(days * 86_400)),
                forms=frozenset(chosen),
                channel=rng.choices(channels, channel_weights)[0],
                role=rng.choices(roles, role_weights)[0],
                department=rng.choice((*DEPARTMENTS, None)),
                work_process=rng.choice((*DEFAULT_WORK_PROCESSES, None)),
                perpetrator=rng.choice(list(Perpetrator)),
                in_register=registered,
                acknowledged_after=timedelta(hours=rng.expovariate(1 / 14)) if rng.random() < 0.93 else None,
                reaction_after=timedelta(hours=rng.expovariate(1 / 50)) if registered and rng.random() < 0.8 else None,
                police_report=registered and rng.random() < 0.25,
                damages_claimed=registered and rng.random() < 0.12,
                survey=rng.choice((None, None, *SurveyAnswer)),
                latest_checkin=rng.choice((None, *CheckInAnswer, CheckInAnswer.FINE)),
            )
        )
    return reports
