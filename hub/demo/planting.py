"""Schedules the planted anomalies over the stream of people and units and writes the manifest."""

from __future__ import annotations

from collections import Counter

from hub.core.codes import SlotStatus
from hub.core.ids import ID_CHECK, normalize_id_number
from hub.core.retirement import add_months
from hub.demo.anomalies import PERSON_PLANTS, UNIT_PLANTS, UnitFacts, Variant
from hub.demo.institutions import Institution
from hub.demo.population import Person
from hub.demo.world import World

YOUNG_YEARS = 45  # planted people (except R08) are younger, so no retirement reading can flip


def written_id(p: Person) -> str:
    """The ID number as every source writes it: the true one, or with a wrong check digit (R10)."""
    if not p.bad_id:
        return p.id_number
    return p.id_number[:17] + ID_CHECK[(ID_CHECK.index(p.id_number[17]) + 1) % len(ID_CHECK)]


class Planting:
    """Plants each rule at its rate on eligible people and units, in stream order, and records findings."""

    def __init__(self, world: World, persons: int) -> None:
        self.world = world
        self.rng = world.rng("plant")
        self.second_slots: set[tuple[int, object]] = set()
        per_person = {rule: max(3, round(rate * persons)) for rule, (rate, _) in PERSON_PLANTS.items()}
        units = len(world.institutions)
        per_unit = {rule: max(3, round(rate * units)) for rule, (rate, _) in UNIT_PLANTS.items()}
        self.person_due = self._schedule(per_person, persons)
        self.unit_due = self._schedule(per_unit, units)
        self.pending: list[str] = []
        self.unit_pending: list[str] = []
        self.turn: Counter[str] = Counter()
        self.planted: list[tuple[Person, str, Variant]] = []
        self.findings: list[dict[str, str]] = []

    def _schedule(self, counts: dict[str, int], population: int) -> dict[int, str]:
        """Position (1-based, in stream order) -> rule; the last 15% are left free to catch up."""
        rules = [rule for rule, n in sorted(counts.items()) for _ in range(n)]
        self.rng.shuffle(rules)
        span = max(1, int(population * 0.85))
        positions = sorted(self.rng.sample(range(1, span + 1), min(len(rules), span)))
        return dict(zip(positions, rules, strict=False))

    def _eligible(self, p: Person) -> bool:
        return (
            p.employed
            and p.plant is None
            and not p.cadre
            and not p.transferred
            and p.payee
            and len(p.slots) == 1
            and p.slots[0].status == SlotStatus.ACTIVE
        )

    def _plant(self, p: Person, rule: str, people: list[Person]) -> bool:
        if rule != "R08" and p.birth <= add_months(self.world.ref_end, -12 * YOUNG_YEARS):
            return False
        variants = PERSON_PLANTS[rule][1]
        for k in range(len(variants)):
            variant = variants[(self.turn[rule] + k) % len(variants)]
            if variant.apply(p, self, people):
                self.turn[rule] += 1
                p.plant = rule
                self.planted.append((p, rule, variant))
                return True
        return False

    def plant_people(self, people: list[Person]) -> None:
        """Plant the rules that fall due on these people (or on the next eligible ones)."""
        for p in people:
            due = self.person_due.pop(p.seq, None)
            if due:
                self.pending.append(due)
            if not self.pending or not self._eligible(p):
                continue
            for i, rule in enumerate(self.pending):
                if self._plant(p, rule, people):
                    del self.pending[i]
                    break

    def record_people(self) -> None:
        """Manifest findings of the people planted so far (call once their ID numbers are minted)."""
        for p, rule, variant in self.planted:
            id_number = normalize_id_number(written_id(p)) or ""
            self.findings.append(
                {"rule": rule, "idNumber": id_number, "detail": f"{variant.detail} ({p.quota})"}
            )
            for implied in variant.implies:
                self.findings.append(
                    {"rule": implied, "idNumber": id_number, "detail": f"implied by {rule}: {variant.detail}"}
                )
        self.planted.clear()

    def plant_unit(self, inst: Institution, facts: UnitFacts) -> None:
        """Plant a unit-level rule on this institution if one is due and it fits."""
        due = self.unit_due.pop(inst.idx + 1, None)
        if due:
            self.unit_pending.append(due)
        for i, rule in enumerate(self.unit_pending):
            detail = UNIT_PLANTS[rule][1](inst, facts, self.rng)
            if detail:
                del self.unit_pending[i]
                self.findings.append({"rule": rule, "institutionCode": inst.uscc, "detail": detail})
                return

    def manifest(self, seed: int, persons: int, reference_month: str) -> dict:
        """The manifest: run parameters, findings per rule and every planted finding, sorted."""
        key = ("rule", "idNumber", "institutionCode", "detail")
        anomalies = sorted(self.findings, key=lambda f: tuple(f.get(k, "") for k in key))
        return {
            "seed": seed,
            "persons": persons,
            "institutions": len(self.world.institutions),
            "referenceMonth": reference_month,
            "rules": dict(sorted(Counter(f["rule"] for f in anomalies).items())),
            "anomalies": anomalies,
        }
