"""The R5 score of one survey response, and whether the customer is dissatisfied. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from followup.rules.values import SurveySettings


def answer_points(kind: str, value: float | str | None) -> float | None:
    """One answer on the 0-100 scale: ``v/10*100`` for 0-10, yes = 100, no = 0."""
    if value is None or value == "":
        return None
    if kind == "scale10":
        v = float(value)
        if not 0 <= v <= 10:
            raise ValueError(f"scale answer out of range: {value!r}")
        return v * 10
    if kind == "yesno":
        if value in ("yes", 1, 1.0, "1"):
            return 100.0
        if value in ("no", 0, 0.0, "0"):
            return 0.0
        raise ValueError(f"yes/no answer expected: {value!r}")
    return None


def score(answers: Mapping[str, float | str | None], survey: SurveySettings,
          service_type: str | None = None) -> float | None:
    """Weighted mean over the scored questions asked (R5: they follow ``service_type``) and
    answered, rounded to one decimal (None if none)."""
    total = weights = 0.0
    for q in survey.questions_for(service_type):
        pts = answer_points(q.kind, answers.get(q.id))
        if pts is not None and q.weight > 0:
            total += pts * q.weight
            weights += q.weight
    if weights == 0:
        return None
    return round(total / weights + 1e-9, 1)


def is_dissatisfied(answers: Mapping[str, float | str | None], value: float | None, survey: SurveySettings,
                    service_type: str | None = None) -> bool:
    """R5: overall <= 6, or fixed_right = no (when it was asked), or a score below 60."""
    asked = {q.id for q in survey.questions_for(service_type)}
    overall = answers.get("overall")
    if "overall" in asked and overall not in (None, "") and float(overall) <= survey.overall_at_most:
        return True
    if survey.fixed_right_no and "fixed_right" in asked and answers.get("fixed_right") in ("no", 0, "0"):
        return True
    return value is not None and value < survey.score_below
