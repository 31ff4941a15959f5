"""Plain-language phrases for zone fits, used in the one-sentence explanations."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from tryon.fit.results import FitVerdict, FitZone, ZoneFit
from tryon.fit.scoring import Candidate, Choice, best_on_zone, between_sizes, deciding_zone

_ZONE_NAMES = {
    FitZone.BALL: "ball",
    FitZone.INSTEP: "instep",
    FitZone.HEEL: "heel",
    FitZone.CHEST: "chest",
    FitZone.WAIST: "waist",
    FitZone.HIP: "hip",
}
_WOULD = {"leaves": "would leave", "is": "would be", "fits": "would fit", "has": "would have"}


def _verb_and_rest(fit: ZoneFit) -> tuple[str, str]:
    off = abs(fit.off_target_mm)
    if fit.zone is FitZone.TOE_ROOM:
        if fit.ease_mm < 0:
            return "is", f"{-fit.ease_mm:.0f} mm shorter than your foot"
        return "leaves", f"{fit.ease_mm:.0f} mm toe room"
    if fit.zone is FitZone.LENGTH:
        if fit.verdict is FitVerdict.GOOD:
            return "is", "cut for your height"
        return "is", f"cut for someone {off:.0f} mm {'shorter' if fit.verdict is FitVerdict.SHORT else 'taller'}"
    if fit.zone is FitZone.INSEAM:
        if fit.verdict is FitVerdict.GOOD:
            return "has", f"a {fit.item_mm:.0f} mm inseam for your {fit.body_mm:.0f} mm leg"
        return "is", f"{off:.0f} mm too {'short' if fit.verdict is FitVerdict.SHORT else 'long'} in the leg"
    name = _ZONE_NAMES[fit.zone]
    if fit.verdict is FitVerdict.GOOD:
        return "fits", f"the {name} well"
    tight = fit.verdict is FitVerdict.TIGHT
    if fit.target_ease_mm:  # a garment cut with ease: say how far from the cut, not from the body
        return "is", f"{off:.0f} mm {'tighter' if tight else 'looser'} than designed at the {name}"
    return "is", f"{off:.0f} mm {'tight' if tight else 'loose'} at the {name}"


def describe_zone(fit: ZoneFit, *, would: bool = False) -> str:
    """A verb phrase for one zone: ``"leaves 11 mm toe room"``, ``"would be 7 mm tight at the ball"``.

    ``would`` phrases it for a size not chosen, and then says when toe room falls short of the
    brand's allowance ("would leave only 13 mm toe room").
    """
    verb, rest = _verb_and_rest(fit)
    if not would:
        return f"{verb} {rest}"
    short_toes = fit.zone is FitZone.TOE_ROOM and 0 <= fit.ease_mm < fit.target_ease_mm
    return f"{_WOULD[verb]} {'only ' if short_toes else ''}{rest}"


def why_rival_lost(best: Candidate, rival: Candidate, body: Mapping[str, float]) -> str:
    """A verb phrase for the size not chosen: what goes wrong with it, or, when the zone that
    cost it is a girth it still fits, that it sits further from the design ease than the chosen
    size ("fits the ball well" is no reason to lose)."""
    losing = deciding_zone(best, rival, body)
    if losing.verdict is not FitVerdict.GOOD or losing.zone not in _ZONE_NAMES:
        return describe_zone(losing, would=True)
    spec = next(s for s in best.zones if s.zone is losing.zone)
    chosen = spec.zone_fit(body[spec.measurement])
    return (
        f"would fit the {_ZONE_NAMES[losing.zone]} less closely ({abs(losing.off_target_mm):.0f} mm from the "
        f"design ease, against {abs(chosen.off_target_mm):.0f} mm for {best.size_label})"
    )


def choice_reason(candidates: Sequence[Candidate], choice: Choice, body: Mapping[str, float], decisive: FitZone,
                  decisive_name: str) -> str:
    """Why the winner beat its neighbours, in one sentence (may be empty when there is no rival).

    When the decisive zone alone (length for shoes) would pick a size that differs on that zone, say which way the
    other zones moved it and why; when the decisive figure falls between two sizes, say which
    way we went and what the other size would do; otherwise name the runner-up.
    """
    best = candidates[choice.best]
    rival = candidates[best_on_zone(candidates, body, decisive)]
    best_item, rival_item = (next(s.item_mm for s in c.zones if s.zone is decisive) for c in (best, rival))
    if rival_item != best_item:
        way = "up" if rival_item < best_item else "down"
        return (
            f" By {decisive_name} alone you are a {rival.size_label}, but {rival.size_label} "
            f"{why_rival_lost(best, rival, body)}, so we go {way} to {best.size_label}."
        )
    if choice.runner_up is None:
        return ""
    rival = candidates[choice.runner_up]
    between = between_sizes(choice, candidates, body, decisive)
    if between:
        way = "up" if between[1] == best.size_label else "down"
        return (
            f" You are between {between[0]} and {between[1]}: we go {way} to {best.size_label} because "
            f"{rival.size_label} {why_rival_lost(best, rival, body)}."
        )
    return f" Next best: {rival.size_label}, which {describe_zone(deciding_zone(best, rival, body))}."
