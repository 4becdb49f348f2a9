"""The project's own FHIR code system, identifier systems and UCUM units (one table, one place).

Every code that :mod:`wobble_trainer.reports.fhir` writes in the project's code system is defined
here, with its display, definition, unit and where its value sits in a session's stored metrics;
:func:`code_system` turns the same table into the FHIR ``CodeSystem`` resource (shipped as
``docs/fhir/CodeSystem-balance-metrics.json``) and ``docs/fhir.md`` documents it. LOINC is used
only where a code truly fits; the checks made are in ``docs/fhir.md`` (none of the board's
measures has one, so every code here is the project's).

Canonical URLs are stable: they name the concept, not a server, and never change once released;
a new measure is a new code appended to a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

CANONICAL = "https://wobble-trainer.org/fhir"
CODE_SYSTEM_URL = f"{CANONICAL}/CodeSystem/balance-metrics"
CODE_SYSTEM_VERSION = "1"
"""Version of the code system's content (bumped when codes are added, never for a release)."""
EXT_ANALYSIS_VERSION = f"{CANONICAL}/StructureDefinition/analysis-version"
"""Extension (valueString) on an Observation: the software version that computed its values."""

UCUM = "http://unitsofmeasure.org"
UCUM_UNITS = frozenset({"deg", "deg2", "deg/s", "s", "%", "{count}", "{score}", "{level}"})
"""The UCUM unit codes this project writes (``deg2`` is square degrees; ``{…}`` are UCUM
annotations of a dimensionless number)."""

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

IDENTIFIER_SYSTEMS = {
    kind: f"{CANONICAL}/sid/{kind}"
    for kind in (
        "patient",
        "profile-label",
        "device",
        "device-metric",
        "care-plan",
        "observation",
        "diagnostic-report",
        "bundle",
    )
}
"""Identifier systems: each value is a UUID derived from the database, so it is stable."""

ValueKind = Literal["quantity", "boolean", "string", "integer"]


@dataclass(frozen=True)
class Concept:
    """One code of the code system."""

    code: str
    display: str
    definition: str


@dataclass(frozen=True)
class Metric:
    """One measure: its code, the unit, and its place in a stored metrics dict."""

    code: str
    display: str
    definition: str
    path: tuple[str, ...]
    """Keys leading to the value inside a trial's or session's metrics (e.g. ``("sd", "ap")``)."""
    unit: str | None = None
    """UCUM code for quantities; None for booleans and text."""
    kind: ValueKind = "quantity"

    @property
    def concept(self) -> Concept:
        unit = f" Unit: {self.unit}." if self.unit else ""
        return Concept(self.code, self.display, self.definition + unit)


ZONES = (
    ("0-5", "0-5"),
    ("5-10", "5-10"),
    ("10-15", "10-15"),
    ("15-20", "15-20"),
    (">20", "over-20"),
)
"""Tilt bands of :data:`wobble_trainer.metrics.ZONE_KEYS` and their code suffixes."""


def _m(
    code: str,
    display: str,
    definition: str,
    *path: str,
    unit: str | None = None,
    kind: ValueKind = "quantity",
) -> Metric:
    return Metric(code, display, definition, tuple(path), unit, kind)


TRACE_METRICS: tuple[Metric, ...] = (
    _m("duration", "Duration", "Length of the recorded trace.", "duration_s", unit="s"),
    _m(
        "osi",
        "Overall stability index",
        "Root mean square of board tilt from level over both axes (Arnold & Schmitz 1998).",
        "osi",
        unit="deg",
    ),
    _m(
        "apsi",
        "Anterior-posterior stability index",
        "Root mean square of board pitch from level.",
        "apsi",
        unit="deg",
    ),
    _m(
        "mlsi",
        "Medio-lateral stability index",
        "Root mean square of board roll from level.",
        "mlsi",
        unit="deg",
    ),
    _m(
        "sd-ap",
        "Sway SD, anterior-posterior",
        "Standard deviation of pitch about its mean.",
        "sd",
        "ap",
        unit="deg",
    ),
    _m(
        "sd-ml",
        "Sway SD, medio-lateral",
        "Standard deviation of roll about its mean.",
        "sd",
        "ml",
        unit="deg",
    ),
    _m(
        "sd-combined",
        "Sway SD, combined",
        "Square root of the sum of both axes' variances.",
        "sd",
        "combined",
        unit="deg",
    ),
    _m(
        "path-length",
        "Sway path length",
        "Total angular path of the board's tilt point.",
        "path_length_deg",
        unit="deg",
    ),
    _m(
        "mean-velocity",
        "Mean sway velocity",
        "Path length divided by the time it spans.",
        "mean_velocity_deg_s",
        unit="deg/s",
    ),
    _m(
        "ellipse95-area",
        "95% confidence ellipse area",
        "Area of the ellipse holding 95% of the tilt points (chi-square, 2 degrees of freedom).",
        "ellipse95_area_deg2",
        unit="deg2",
    ),
    _m(
        "mean-tilt",
        "Mean tilt",
        "Mean angle between board normal and vertical.",
        "mean_tilt_deg",
        unit="deg",
    ),
    _m(
        "max-tilt",
        "Maximum tilt",
        "Largest angle between board normal and vertical.",
        "max_tilt_deg",
        unit="deg",
    ),
    *(
        _m(
            f"zone-{suffix}-pct",
            f"Time in tilt zone {key} deg, share",
            f"Share of valid samples with tilt in the {key} deg band.",
            "zone_pct",
            key,
            unit="%",
        )
        for key, suffix in ZONES
    ),
    *(
        _m(
            f"zone-{suffix}-time",
            f"Time in tilt zone {key} deg",
            f"Time with tilt in the {key} deg band.",
            "zone_s",
            key,
            unit="s",
        )
        for key, suffix in ZONES
    ),
    _m(
        "edge-touches",
        "Edge touches",
        "Times the board's rim touched the floor (with "
        "hysteresis, so a board rocking on its rim counts once).",
        "edge_touches",
        unit="{count}",
    ),
    _m("edge-time", "Time on the edge", "Time the rim was down.", "edge_time_s", unit="s"),
    _m(
        "edge-time-pct",
        "Time on the edge, share",
        "Share of the trace with the rim down.",
        "edge_time_pct",
        unit="%",
    ),
    _m(
        "time-to-first-edge",
        "Time to first edge touch",
        "From the start to the first touch; absent when the rim never touched.",
        "time_to_first_touch_s",
        unit="s",
    ),
    _m(
        "time-in-target",
        "Time in target",
        "Time within the target circle.",
        "time_in_target",
        "seconds",
        unit="s",
    ),
    _m(
        "time-in-target-pct",
        "Time in target, share",
        "Share of time within the target circle.",
        "time_in_target",
        "pct",
        unit="%",
    ),
    _m(
        "lost-samples",
        "Lost samples",
        "Samples missing from the trace (gaps), left out of every measure.",
        "n_gaps",
        unit="{count}",
    ),
)
"""Measures of one board-tilt trace (:func:`wobble_trainer.metrics.compute`)."""

TRIAL_METRICS: tuple[Metric, ...] = (
    _m(
        "condition",
        "Condition",
        "The trial's label: leg, eyes, surface, direction.",
        "label",
        kind="string",
    ),
    _m("trial-time", "Trial time", "Running time of the trial when it ended.", "time_s", unit="s"),
    _m(
        "ended-by",
        "Ended by",
        "What ended the trial: time, edge, step-off, clinician, reached.",
        "ended_by",
        kind="string",
    ),
    _m(
        "stance-time",
        "Single-leg stance time",
        "Time the stance was held.",
        "stance_time_s",
        unit="s",
    ),
    _m("held-time", "Condition held", "Time the m-CTSIB condition was held.", "held_s", unit="s"),
    _m(
        "condition-completed",
        "Condition completed",
        "The condition was held its full time.",
        "completed",
        kind="boolean",
    ),
    _m(
        "bess-errors",
        "BESS errors",
        "Errors counted in the condition (board and clinician).",
        "errors",
        unit="{count}",
    ),
    _m(
        "bess-score",
        "BESS condition score",
        "Errors scored, at most 10 (10 when the stance lasted under 5 s).",
        "score",
        unit="{count}",
    ),
    _m(
        "bess-stance-time",
        "BESS stance time",
        "Time the BESS stance was held.",
        "stance_s",
        unit="s",
    ),
    _m(
        "bess-under-5s",
        "BESS stance under 5 s",
        "The stance lasted under 5 s.",
        "under_5_s",
        kind="boolean",
    ),
    _m(
        "bess-board-errors",
        "BESS errors seen by the board",
        "Errors the board detected.",
        "board_errors",
        unit="{count}",
    ),
    _m(
        "bess-clinician-errors",
        "BESS errors entered by the clinician",
        "Errors the clinician tapped in.",
        "clinician_errors",
        unit="{count}",
    ),
    _m(
        "target-tilt",
        "Target tilt",
        "Tilt of the limits-of-stability target.",
        "target_deg",
        "tilt",
        unit="deg",
    ),
    _m(
        "target-reached",
        "Target reached",
        "The board was held on the target.",
        "reached",
        kind="boolean",
    ),
    _m(
        "time-to-reach",
        "Time to reach",
        "From GO to reaching the target.",
        "time_to_reach_s",
        unit="s",
    ),
    _m(
        "direction-control",
        "Direction control",
        "Progress toward the target against sideways wander and backing off.",
        "direction_control_pct",
        unit="%",
    ),
    _m(
        "rom",
        "Ankle range of motion",
        "Board tilt from the seated neutral in the movement's direction, held.",
        "rom_deg",
        unit="deg",
    ),
    _m(
        "rom-peak",
        "Ankle range of motion, peak",
        "Largest tilt in the movement's direction.",
        "peak_deg",
        unit="deg",
    ),
    _m(
        "rom-at-edge",
        "Range limited by the board's edge",
        "The board reached its rim, so the ankle may move further.",
        "at_edge",
        kind="boolean",
    ),
    _m("score", "Activity score", "The activity's own score (points).", "score", unit="{score}"),
)
"""Measures a protocol keeps per trial (and an activity per session) besides the trace ones."""

LEGS = ("left", "right")
EYES = ("eyes-open", "eyes-closed")
ROM_DIRECTIONS = ("dorsiflexion", "plantarflexion", "inversion", "eversion")

SUMMARY_METRICS: tuple[Metric, ...] = (
    _m(
        "protocol-completed",
        "Protocol completed",
        "Every planned trial was done.",
        "completed",
        kind="boolean",
    ),
    _m(
        "test-trials",
        "Test trials",
        "Trials averaged (practice trials left out).",
        "test_trials",
        unit="{count}",
    ),
    _m(
        "stability-level",
        "Stability level",
        "Board stability level set for the test.",
        "stability_level",
        unit="{level}",
    ),
    _m(
        "mctsib-total-held",
        "m-CTSIB total time held",
        "Sum of the conditions' times held.",
        "total_held_s",
        unit="s",
    ),
    _m(
        "mctsib-total-possible",
        "m-CTSIB total time possible",
        "Sum of the conditions' durations.",
        "total_possible_s",
        unit="s",
    ),
    _m("bess-total", "BESS total score", "Sum of the condition scores.", "total", unit="{count}"),
    *(
        _m(
            f"bess-total-{surface}",
            f"BESS total, {surface} board",
            f"Sum of the condition scores on the {surface} board.",
            "surface_totals",
            surface,
            unit="{count}",
        )
        for surface in ("locked", "free")
    ),
    _m(
        "targets-reached",
        "Targets reached",
        "Limits-of-stability targets reached.",
        "reached",
        unit="{count}",
    ),
    _m(
        "los-score",
        "Limits-of-stability score",
        "Mean direction control over the directions.",
        "score_pct",
        unit="%",
    ),
    _m(
        "los-total-time",
        "Limits-of-stability total time",
        "Sum of the directions' times (an unreached target counts its time limit).",
        "total_time_s",
        unit="s",
    ),
    *(
        _m(
            f"rom-{side}-{direction}",
            f"Ankle {direction}, {side}",
            f"Range of motion of the {side} ankle in {direction}.",
            "rom_deg",
            side,
            direction,
            unit="deg",
        )
        for side in LEGS
        for direction in ROM_DIRECTIONS
    ),
    *(
        _m(
            f"rom-symmetry-{direction}",
            f"Ankle {direction}, limb symmetry",
            f"Limb symmetry index of {direction} (smaller side over larger).",
            "limb_symmetry_pct",
            direction,
            unit="%",
        )
        for direction in ROM_DIRECTIONS
    ),
    *(
        _m(
            f"sls-{stat}-{leg}-{eyes}",
            f"Single-leg stance {stat}, {leg}, {eyes}",
            f"{'Longest' if stat == 'best' else 'Mean'} stance time on the {leg} leg with "
            f"{eyes.replace('-', ' ')}.",
            "conditions",
            f"{leg}/{eyes}",
            f"{stat}_s",
            unit="s",
        )
        for stat in ("best", "mean")
        for leg in LEGS
        for eyes in EYES
    ),
    *(
        _m(
            f"sls-symmetry-{eyes}",
            f"Single-leg stance limb symmetry, {eyes}",
            f"Limb symmetry index of the best stance times with {eyes.replace('-', ' ')}.",
            "limb_symmetry_pct",
            eyes,
            unit="%",
        )
        for eyes in EYES
    ),
)
"""Measures of a protocol's summary (one per session)."""

PROTOCOL_CODES: dict[str, tuple[Concept, Concept]] = {
    "single_leg_stance": (
        Concept(
            "single-leg-stance",
            "Single-leg stance test",
            "Stance time per leg and eyes condition on the board, with the sway of each trial.",
        ),
        Concept("single-leg-stance-trial", "Single-leg stance trial", "One timed stance."),
    ),
    "postural_stability": (
        Concept(
            "postural-stability",
            "Postural stability test",
            "Stability indices averaged over the test trials (practice trials left out).",
        ),
        Concept("postural-stability-trial", "Postural stability trial", "One trial's sway."),
    ),
    "limits_of_stability": (
        Concept(
            "limits-of-stability",
            "Limits of stability test",
            "Leaning the board to "
            "eight targets: direction control, time to reach, targets reached.",
        ),
        Concept(
            "limits-of-stability-direction",
            "Limits of stability direction",
            "One direction's lean to its target.",
        ),
    ),
    "mctsib": (
        Concept(
            "mctsib",
            "Modified CTSIB",
            "Modified Clinical Test of Sensory Interaction on "
            "Balance: eyes open and closed on a locked and a free board.",
        ),
        Concept("mctsib-condition", "m-CTSIB condition", "One sensory condition."),
    ),
    "bess": (
        Concept(
            "bess",
            "Balance Error Scoring System",
            "BESS: errors in three stances on a locked and a free board.",
        ),
        Concept("bess-condition", "BESS condition", "One stance on one surface."),
    ),
    "ankle_rom": (
        Concept(
            "ankle-rom",
            "Ankle range of motion (seated, board)",
            "Seated ankle range of motion per side and direction, measured as board tilt.",
        ),
        Concept("ankle-rom-movement", "Ankle movement", "One side's movement in one direction."),
    ),
}
"""Observation codes of each protocol: (summary, per trial)."""

OTHER_PROTOCOL = (
    Concept(
        "protocol",
        "Balance test",
        "A balance test this code system has no own code for (its name is in the code's text).",
    ),
    Concept("protocol-trial", "Balance test trial", "One trial of such a test."),
)
TRAINING_SESSION = Concept(
    "training-session",
    "Wobble board training session",
    "An activity or game on the board "
    "(its name is in the code's text), with the sway of the whole session.",
)
METHOD = Concept(
    "board-tilt-imu",
    "Board tilt from a board-mounted IMU",
    "Pitch and roll of the board from "
    "its accelerometer and gyroscope (Wobble Trainer tilt estimator), with the board's "
    "calibration.",
)
REPORT = Concept(
    "balance-session-report",
    "Wobble board session report",
    "A session's measures and its one-page PDF report.",
)
DEVICE_TYPE = Concept(
    "wobble-board",
    "Wobble board balance trainer",
    "A wobble board with an IMU and a Raspberry Pi running Wobble Trainer.",
)
DEVICE_METRIC = Concept(
    "board-tilt",
    "Board tilt",
    "The board's tilt measurement (pitch and roll), with its calibration.",
)
RECORDING_SOFTWARE = Concept(
    "recording-software",
    "Recording software version",
    "Wobble Trainer version that recorded the session.",
)
ANALYSIS_SOFTWARE = Concept(
    "analysis-software",
    "Analysis software version",
    "Wobble Trainer version that computed the measures.",
)

ALL_METRICS: tuple[Metric, ...] = TRACE_METRICS + TRIAL_METRICS + SUMMARY_METRICS


def _concepts() -> list[Concept]:
    seen: dict[str, Concept] = {}
    items = [
        *(c for pair in PROTOCOL_CODES.values() for c in pair),
        *OTHER_PROTOCOL,
        TRAINING_SESSION,
        *(m.concept for m in ALL_METRICS),
        METHOD,
        REPORT,
        DEVICE_TYPE,
        DEVICE_METRIC,
        RECORDING_SOFTWARE,
        ANALYSIS_SOFTWARE,
    ]
    for concept in items:
        known = seen.get(concept.code)
        if known is not None and known != concept:
            raise AssertionError(f"code {concept.code!r} defined twice differently")
        seen[concept.code] = concept
    return list(seen.values())


CONCEPTS: tuple[Concept, ...] = tuple(_concepts())
CODES: frozenset[str] = frozenset(c.code for c in CONCEPTS)


def coding(concept: Concept) -> dict[str, Any]:
    """A FHIR Coding of one of our concepts."""
    return {"system": CODE_SYSTEM_URL, "code": concept.code, "display": concept.display}


def code_system() -> dict[str, Any]:
    """The FHIR R4 ``CodeSystem`` resource of every code above."""
    return {
        "resourceType": "CodeSystem",
        "id": "balance-metrics",
        "url": CODE_SYSTEM_URL,
        "version": CODE_SYSTEM_VERSION,
        "name": "WobbleTrainerBalanceMetrics",
        "title": "Wobble Trainer balance measures",
        "status": "active",
        "experimental": False,
        "publisher": "Wobble Trainer project",
        "description": "Balance tests, their measures and the board, as Wobble Trainer "
        "exports them to FHIR. Angles are board tilt in degrees (pitch > 0 toes down, roll > 0 "
        "right edge down).",
        "caseSensitive": True,
        "content": "complete",
        "count": len(CONCEPTS),
        "concept": [
            {"code": c.code, "display": c.display, "definition": c.definition} for c in CONCEPTS
        ],
    }
