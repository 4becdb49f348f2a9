"""A person balancing on a wobble board: rigid-body physics and what an IMU on the deck senses.

Model (DOMAIN.md §2-§3):

* The board is a rigid disc on a spherical base (radius ``r``) that rolls without slipping on a
  flat floor. With heading fixed, its orientation is ``R = R_y(pitch)·R_x(roll)`` (board→earth);
  the base-sphere centre stays at height ``r`` and moves ``v = r·(ω_y, −ω_x)`` (earth-frame
  angular velocity ω), i.e. ``r·θ`` per radian of tilt.
* Person + board form one inverted pendulum per axis (AP = pitch, ML = roll) about the sphere
  centre: ``J·θ̈ = m·g·h·sinθ + T`` (for a combined tilt the gravity terms are the gradient of the
  centre of mass's height ``h·cos(pitch)·cos(roll)``, so a board lying on its rim does not creep
  along it) with the person's torque
  ``T = sat(−K_P·(θ(t−τ) − θ_target) − K_D·θ̇(t−τ) + noise) + T_ff − K_pas·θ − B_pas·θ̇``.
  ``sat`` is a hard limit at the torque the base of support allows (``m·g·lever``): beyond it
  the person cannot stop the board, it runs to the edge, and they either recover (pushing off the
  supported rim, no limit) or step off. ``T_ff`` is the posture that makes the lean target an
  equilibrium (the person shifts their weight over the pivot instead of fighting gravity).
* The rim reaches the floor at the edge angle (DOMAIN.md §2): the tilt magnitude is clamped there
  and the outward angular velocity is removed (inelastic contact).
* Nobody on the board: it is a light body whose centre of mass is above the sphere centre for the
  default geometry (deck top 2.5 cm above it), so it topples onto its rim and stays there, as an
  unloaded wooden wobble board does; a board with its mass below the sphere centre
  (``deck_height_m`` small or negative) would instead rock back to level and settle (damped).

The physics runs lazily at a fixed step (``physics_rate_hz``) in plain float arithmetic, because
it runs in real time inside the sampler process on a Raspberry Pi; queries interpolate within a
step with the step's constant angular acceleration, so motion and truth are exactly consistent.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from wobble_trainer.sim.motion import Motion, rotation_matrix_from_quaternion
from wobble_trainer.units import STANDARD_GRAVITY

STANCES = ("double", "left", "right")

# -- person model constants (DOMAIN.md §3; tuned values are marked "tuned") -----------------------
COM_HEIGHT_FRACTION = 0.55
"""Centre of mass above the soles as a fraction of body height (anthropometric tables ≈0.55)."""
INERTIA_FACTOR = 1.28
"""J / (m·h²) of the body about its pivot: 66 kg·m² / (75 kg·(0.83 m)²) in PMC5664365."""
KD_OVER_MGH_S = 0.40
"""K_D / (m·g·h) in seconds (PMC5664365: 314/610 ≈ 0.51; J NeuroEng Rehabil 2017: ≈0.65;
we use 0.40 so the loop stays stable at the skill knob's 200 ms delay)."""
NOISE_CORRELATION_S = 0.15
"""Correlation time of the torque noise (a low-pass Ornstein-Uhlenbeck process): keeps the sway
power below ~1-2 Hz as observed (DOMAIN.md §3)."""
NOISE_TORQUE_OVER_MGH = 0.0095
"""Noise torque SD / (m·g·h) for skill 1, single-leg ML, eyes open (tuned: healthy single-leg
subject at skill 0.65 → ML SD ≈ 1.1°, Laessoe 2018)."""
EYES_CLOSED_NOISE = 1.5
"""Noise factor with eyes closed (tuned to ≈1.5-2× the sway, DOMAIN.md §3)."""
EYES_CLOSED_DELAY_S = 0.02
"""Extra loop delay with eyes closed (slower proprioceptive/vestibular loop only)."""
LEAN_TARGET_TIME_S = 0.25
"""How quickly the person moves to a new lean target (first-order time constant)."""


@dataclass(frozen=True)
class _AxisProfile:
    """What the stance changes on one axis: noise gain, passive stiffness, base of support."""

    noise_gain: float
    passive_stiffness: float
    """K_pas / (m·g·h)."""
    lever_m: float
    """Half-size of the effective base of support: the feedback torque saturates at m·g·lever."""


# (AP, ML) per stance. Single leg: the foot is ~9 cm wide, so ML has little passive support and a
# small base; with two feet apart the ML direction gains a load-transfer mechanism (stiff, quiet).
_PROFILES: dict[str, tuple[_AxisProfile, _AxisProfile]] = {
    "single": (_AxisProfile(0.75, 0.10, 0.10), _AxisProfile(1.18, 0.05, 0.12)),
    "double": (_AxisProfile(0.60, 0.15, 0.12), _AxisProfile(0.35, 0.60, 0.20)),
}

STEP_OFF_PROBABILITY = 0.35
"""Chance that an edge impact makes a skill-0 person step off (scaled by 1 − skill; ×1.5 with eyes
closed); otherwise they push the board back off the rim."""
STEP_OFF_KICK_RAD_S = 0.3
"""Angular speed the board gets from the foot leaving it, towards its low side."""

# -- board constants --------------------------------------------------------------------------
BOARD_MASS_KG = 2.0
"""Plywood deck (40 cm, 18 mm) plus base: used only when nobody stands on the board."""
BOARD_COM_BELOW_DECK_TOP_M = 0.015
"""The unloaded board's centre of mass sits this far below the deck's top surface."""
BOARD_ROLL_DAMPING = 0.02
"""Rolling-resistance damping of the unloaded board, N·m·s/rad (settles in a few seconds)."""

RIM_FRICTION_PER_S = 5.0
"""Decay rate of the angular velocity while the rim touches the floor (sliding friction)."""

PUPPET_FREQUENCY_HZ = 1.5
"""Bandwidth of the puppet mode (autopilot off: the board follows the lean target directly)."""

AMBIENT_TEMPERATURE_C = 23.0
WARMUP_RISE_C = 6.0
WARMUP_TIME_S = 300.0
"""Die temperature: ambient plus a slow self-heating warm-up after start (first-order)."""

HISTORY_S = 5.0
"""How much past state is kept for ``truth_at``/``motion_at`` queries."""

_NOISE_BLOCK = 4096
_FIELDS = 9  # p, r, pd, rd, pdd, rdd, X, Y, flags per stored step
_FLAG_EDGE = 1
_FLAG_PERSON = 2

_MODE_PERSON = 0
_MODE_PUPPET = 1
_MODE_EMPTY = 2


@dataclass
class PersonParams:
    """Who stands on the board and how well they balance."""

    skill: float = 0.6
    """0 = struggling (K_P/(m·g·h) 1.1, τ 200 ms, 2× noise) … 1 = expert (1.5, 120 ms, 1×)."""
    stance: str = "double"
    """"double", or single-leg on the "left" or "right" leg."""
    eyes_closed: bool = False
    mass_kg: float = 75.0
    height_m: float = 1.75
    autopilot: bool = True
    """True: the simulated person balances, aiming at level or at the lean target. False: no
    person model; the board follows the lean target directly (a mouse or script is the person)."""
    can_step_off: bool = True
    """Whether an edge impact may make the person step off."""
    return_after_s: float | None = None
    """Addition: get back on this many seconds after stepping off (demos); None = stay off."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.skill <= 1.0:
            raise ValueError(f"skill must be in [0, 1], got {self.skill}")
        if self.stance not in STANCES:
            raise ValueError(f"stance must be one of {STANCES}, got {self.stance!r}")
        if self.mass_kg <= 0 or self.height_m <= 0:
            raise ValueError("mass_kg and height_m must be positive")


@dataclass
class BoardGeometry:
    """The board's shape and where the IMU sits on it (metres)."""

    disc_radius_m: float = 0.20
    base_radius_m: float = 0.055
    cap_height_m: float = 0.050
    """From the deck's underside to the base's lowest point (a cap taller than the sphere's
    diameter is a post ending in a ball; r → 0 is a sharp pivot)."""
    deck_height_m: float = 0.025
    """Height of the deck's top surface (and the IMU) above the base-sphere centre. 2.5 cm puts
    the IMU 8 cm above the floor when level, the case of DOMAIN.md §2."""
    imu_offset_m: tuple[float, float] = (0.0, 0.0)
    """IMU position on the deck, board x (forward) and y (left), from the centre."""

    def __post_init__(self) -> None:
        if self.disc_radius_m <= 0 or self.base_radius_m <= 0 or self.cap_height_m <= 0:
            raise ValueError("disc_radius_m, base_radius_m and cap_height_m must be positive")
        if not 0 < self.edge_angle_rad < math.pi / 2:
            raise ValueError("this geometry has no edge angle between 0 and 90°")

    @property
    def edge_angle_rad(self) -> float:
        """Tilt at which the rim touches the floor: R·sinθ + (r − c)·cosθ = r (DOMAIN.md §2).

        Written as ρ·sin(θ + φ) = r with ρ = hypot(R, r − c), φ = atan2(r − c, R). For a sharp
        pivot (r → 0) this gives tanθ = c/R; DOMAIN.md's "sinθ = c/R" is its small-angle form.
        """
        big_r, r, c = self.disc_radius_m, self.base_radius_m, self.cap_height_m
        rho = math.hypot(big_r, r - c)
        if r > rho:
            return math.nan
        return math.asin(r / rho) - math.atan2(r - c, big_r)


@dataclass
class BoardTruth:
    """What really happened at the queried instants."""

    pitch_rad: np.ndarray
    roll_rad: np.ndarray
    quaternion: np.ndarray
    """(n, 4) sensor→earth (w, x, y, z), heading 0."""
    on_edge: np.ndarray
    person_on_board: np.ndarray
    sensor_position_m: np.ndarray | None = None
    """Addition: (n, 3) earth-frame IMU position (origin on the floor below the sphere centre's
    starting point), for finite-difference checks."""
    pitch_rate_rad_s: np.ndarray | None = None
    """Addition: (n,) d(pitch)/dt."""
    roll_rate_rad_s: np.ndarray | None = None
    """Addition: (n,) d(roll)/dt."""


@dataclass
class SimulatedRecording:
    """An offline simulated recording, sensor errors included (no register layer)."""

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    truth: BoardTruth
    temperature_c: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Addition: (n,) die temperature."""


@dataclass(frozen=True)
class _AxisGains:
    kp: float
    kd: float
    kpas: float
    bpas: float
    noise_sd: float
    tmax: float


def _quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (n, 4) and (4,) or (n, 4) quaternions."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


class BoardSimulator:
    """A person on a wobble board with an IMU on the deck: a :class:`MotionSource`.

    Queries (``motion_at``, ``truth_at``) must use non-decreasing times across calls; the physics
    is integrated lazily up to the latest queried time. Scripted events (``step_off``,
    ``step_on``, ``set_lean_target``) act at the latest integrated time, or at ``at_time`` if that
    is later.
    """

    def __init__(
        self,
        person: PersonParams | None = None,
        board: BoardGeometry | None = None,
        mounting: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
        seed: int = 0,
        physics_rate_hz: float = 1000.0,
        start_time: float = 0.0,
        history_s: float = HISTORY_S,
    ) -> None:
        self.person = person or PersonParams()
        self.board = board or BoardGeometry()
        self.seed = seed
        q = np.asarray(mounting, dtype=float)
        if q.shape != (4,) or not abs(float(np.linalg.norm(q)) - 1.0) < 1e-6:
            raise ValueError("mounting must be a unit quaternion (w, x, y, z)")
        self.mounting = q
        self._mount_t = rotation_matrix_from_quaternion(q).T  # board → sensor
        self._identity_mount = bool(np.array_equal(self._mount_t, np.eye(3)))
        if physics_rate_hz <= 0:
            raise ValueError("physics_rate_hz must be positive")
        self.physics_rate_hz = float(physics_rate_hz)
        self.dt = 1.0 / self.physics_rate_hz
        self.start_time = float(start_time)
        self.edge_angle_rad = self.board.edge_angle_rad
        self._history_steps = max(int(history_s * self.physics_rate_hz), 16)

        person_ = self.person
        r = self.board.base_radius_m
        self._r = r
        # Height of the body's centre of mass above the sphere centre (feet on the deck).
        h = COM_HEIGHT_FRACTION * person_.height_m + self.board.deck_height_m
        m = person_.mass_kg
        self.com_height_m = h
        self.mgh = m * STANDARD_GRAVITY * h
        # Rolling moves the instantaneous pivot to the floor contact r below the sphere centre.
        self.inertia = INERTIA_FACTOR * m * h * h + m * r * (2.0 * h + r)
        self.delay_s = (
            0.20 - 0.08 * person_.skill + (EYES_CLOSED_DELAY_S if person_.eyes_closed else 0.0)
        )
        self.gains = self._axis_gains()
        # Unloaded board.
        hb = self.board.deck_height_m - BOARD_COM_BELOW_DECK_TOP_M
        self._board_mgh = BOARD_MASS_KG * STANDARD_GRAVITY * hb
        self._board_inertia = BOARD_MASS_KG * (0.25 * self.board.disc_radius_m**2 + hb * hb + r * r)

        seq = np.random.SeedSequence([seed, 0xB0A4D])
        self._noise_rng = np.random.Generator(np.random.PCG64(seq))
        self._event_rng = random.Random(int(seq.generate_state(1)[0]))

        # -- state at the frontier (time start + steps·dt) --------------------------------------
        self._steps = 0
        self._p = self._r_ang = self._pv = self._rv = 0.0
        self._x = self._y = 0.0
        self._on_edge = False
        self._mode = _MODE_PERSON if person_.autopilot else _MODE_PUPPET
        self._person_on = True
        self._recovering = False
        self._off_steps = 0
        self._goal = (0.0, 0.0)
        self._target = (0.0, 0.0)
        self._ff = (0.0, 0.0)
        n_delay = max(1, int(round(self.delay_s * self.physics_rate_hz)))
        self._delay = [[0.0] * n_delay for _ in range(4)]
        self._delay_index = 0
        self._noise_block: list[float] = []
        self._noise_pos = 0
        z0, z1 = self._noise_rng.standard_normal(2)
        # Start the noise in its stationary distribution so the sway statistics do not ramp up.
        self._noise = (self.gains[0].noise_sd * float(z0), self.gains[1].noise_sd * float(z1))
        # -- history: flat list, _FIELDS floats per step, first stored step index _hist_base -------
        self._hist: list[float] = []
        self._hist_base = 0

    # -- parameters --------------------------------------------------------------------------------
    def _axis_gains(self) -> tuple[_AxisGains, _AxisGains]:
        p = self.person
        profiles = _PROFILES["double" if p.stance == "double" else "single"]
        kp = (1.1 + 0.4 * p.skill) * self.mgh
        kd = KD_OVER_MGH_S * self.mgh
        noise_skill = 2.0 - p.skill
        eyes = EYES_CLOSED_NOISE if p.eyes_closed else 1.0
        m_g = p.mass_kg * STANDARD_GRAVITY
        out = []
        for prof in profiles:
            out.append(
                _AxisGains(
                    kp=kp,
                    kd=kd,
                    kpas=prof.passive_stiffness * self.mgh,
                    bpas=0.03 * self.mgh,
                    noise_sd=NOISE_TORQUE_OVER_MGH
                    * self.mgh
                    * noise_skill
                    * eyes
                    * prof.noise_gain,
                    tmax=m_g * prof.lever_m,
                )
            )
        return out[0], out[1]

    @property
    def step_off_probability(self) -> float:
        """Chance that one edge impact makes the person step off (0 when they cannot)."""
        p = self.person
        if not p.can_step_off:
            return 0.0
        prob = STEP_OFF_PROBABILITY * (1.0 - p.skill) * (1.5 if p.eyes_closed else 1.0)
        return min(prob, 1.0)

    # -- events ------------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """The latest integrated time (events take effect here)."""
        return self.start_time + self._steps * self.dt

    @property
    def person_on_board(self) -> bool:
        return self._person_on

    def _advance_for_event(self, at_time: float | None) -> None:
        if at_time is not None and at_time > self.now:
            self._trim(self._steps)
            self._advance_to_time(at_time)

    def set_lean_target(
        self, pitch_rad: float, roll_rad: float, at_time: float | None = None
    ) -> None:
        """Where the person (or, without autopilot, the board itself) tries to be.

        Clamped to 95% of the edge angle in magnitude; the person moves there smoothly.
        """
        self._advance_for_event(at_time)
        p, r = float(pitch_rad), float(roll_rad)
        limit = 0.95 * self.edge_angle_rad
        mag = math.hypot(p, r)
        if mag > limit:
            p, r = p * limit / mag, r * limit / mag
        self._goal = (p, r)

    def step_off(self, at_time: float | None = None) -> None:
        """The person steps off: the board is left to itself (it topples onto its rim)."""
        self._advance_for_event(at_time)
        if self._person_on:
            self._leave()

    def step_on(self, at_time: float | None = None) -> None:
        """The person steps (back) on and brings the board off the rim to level / the target."""
        self._advance_for_event(at_time)
        if not self._person_on:
            self._enter()

    def _leave(self) -> None:
        self._person_on = False
        self._mode = _MODE_EMPTY
        self._off_steps = 0
        # The foot leaving pushes the board towards its low side (a random side if it is level).
        p, r = self._p, self._r_ang
        mag = math.hypot(p, r)
        if mag < 1e-4:
            ang = self._event_rng.uniform(-math.pi, math.pi)
            dp, dr = math.cos(ang), math.sin(ang)
        else:
            dp, dr = p / mag, r / mag
        self._pv += STEP_OFF_KICK_RAD_S * dp
        self._rv += STEP_OFF_KICK_RAD_S * dr

    def _enter(self) -> None:
        self._person_on = True
        self._mode = _MODE_PERSON if self.person.autopilot else _MODE_PUPPET
        self._recovering = True
        # A person stepping on has no stale delayed percept: fill the delay line with now.
        for buf, value in zip(self._delay, (self._p, self._r_ang, self._pv, self._rv), strict=True):
            buf[:] = [value] * len(buf)

    # -- physics -----------------------------------------------------------------------------------
    def _advance_to_time(self, t: float) -> None:
        """Integrate so that the step containing ``t`` is stored in the history."""
        needed = int(math.floor((t - self.start_time) * self.physics_rate_hz + 1e-9)) + 1
        if needed > self._steps:
            self._run(needed - self._steps)

    def _run(self, n: int) -> None:
        """Integrate ``n`` physics steps (plain float math: this is the hot loop)."""
        sin, cos = math.sin, math.cos
        dt = self.dt
        hdt2 = 0.5 * dt * dt
        rb = self._r
        mgh = self.mgh
        inv_j = 1.0 / self.inertia
        g_ap, g_ml = self.gains
        kp, kd = g_ap.kp, g_ap.kd
        kpas_p, kpas_r = g_ap.kpas, g_ml.kpas
        bpas_p, bpas_r = g_ap.bpas, g_ml.bpas
        tmax_p, tmax_r = g_ap.tmax, g_ml.tmax
        a_n = math.exp(-dt / NOISE_CORRELATION_S)
        b_n = math.sqrt(1.0 - a_n * a_n)
        sn_p, sn_r = g_ap.noise_sd * b_n, g_ml.noise_sd * b_n
        a_t = 1.0 - math.exp(-dt / LEAN_TARGET_TIME_S)
        edge = self.edge_angle_rad
        edge2 = edge * edge
        cos_edge = cos(edge)
        rim_keep = max(0.0, 1.0 - RIM_FRICTION_PER_S * dt)
        # Leave the recovery (unlimited torque) mode only where the limited torque can hold.
        lever_min = min(tmax_p, tmax_r) / (self.person.mass_kg * STANDARD_GRAVITY)
        release = min(0.5 * edge, 0.5 * lever_min / self.com_height_m)
        release2 = release * release
        board_mgh = self._board_mgh
        inv_jb = 1.0 / self._board_inertia
        damp_b = BOARD_ROLL_DAMPING
        w_pup = 2.0 * math.pi * PUPPET_FREQUENCY_HZ
        k_pup, c_pup = w_pup * w_pup, 2.0 * w_pup
        p_off = self.step_off_probability
        ret_steps = (
            -1
            if self.person.return_after_s is None
            else int(round(self.person.return_after_s * self.physics_rate_hz))
        )

        p, r, pv, rv = self._p, self._r_ang, self._pv, self._rv
        x, y = self._x, self._y
        on_edge = self._on_edge
        mode = self._mode
        recovering = self._recovering
        goal_p, goal_r = self._goal
        tgt_p, tgt_r = self._target
        ff_p, ff_r = self._ff
        n_p, n_r = self._noise
        bp, br, bpv, brv = self._delay
        nd = len(bp)
        di = self._delay_index
        zs = self._noise_block
        zi = self._noise_pos
        nz = len(zs)
        hist = self._hist
        ext = hist.extend
        ev_random = self._event_rng.random
        person_flag = _FLAG_PERSON if self._person_on else 0
        off_steps = self._off_steps

        for _ in range(n):
            sp = sin(p)
            cp = cos(p)
            sr = sin(r)
            cr = cos(r)
            # Delay line: the person sees the board as it was τ ago.
            d_p = bp[di]
            d_r = br[di]
            d_pv = bpv[di]
            d_rv = brv[di]
            bp[di] = p
            br[di] = r
            bpv[di] = pv
            brv[di] = rv
            di += 1
            if di == nd:
                di = 0
            if zi >= nz:
                zs = self._noise_rng.standard_normal(_NOISE_BLOCK).tolist()
                nz = _NOISE_BLOCK
                zi = 0
            n_p = n_p * a_n + sn_p * zs[zi]
            n_r = n_r * a_n + sn_r * zs[zi + 1]
            zi += 2
            if mode == _MODE_PERSON:
                if tgt_p != goal_p or tgt_r != goal_r:
                    tgt_p += (goal_p - tgt_p) * a_t
                    tgt_r += (goal_r - tgt_r) * a_t
                    if abs(goal_p - tgt_p) < 1e-9 and abs(goal_r - tgt_r) < 1e-9:
                        tgt_p, tgt_r = goal_p, goal_r
                    ff_p = kpas_p * tgt_p - mgh * sin(tgt_p)
                    ff_r = kpas_r * tgt_r - mgh * sin(tgt_r)
                fb_p = n_p - kp * (d_p - tgt_p) - kd * d_pv
                fb_r = n_r - kp * (d_r - tgt_r) - kd * d_rv
                if recovering:
                    if p * p + r * r < release2:
                        recovering = False
                else:
                    # A hard limit: linear inside the base of support, nothing more beyond it.
                    if fb_p > tmax_p:
                        fb_p = tmax_p
                    elif fb_p < -tmax_p:
                        fb_p = -tmax_p
                    if fb_r > tmax_r:
                        fb_r = tmax_r
                    elif fb_r < -tmax_r:
                        fb_r = -tmax_r
                # Gravity: the gradient of the height of the centre of mass, h·cos p·cos r.
                pa = (mgh * sp * cr + fb_p + ff_p - kpas_p * p - bpas_p * pv) * inv_j
                ra = (mgh * cp * sr + fb_r + ff_r - kpas_r * r - bpas_r * rv) * inv_j
            elif mode == _MODE_PUPPET:
                pa = k_pup * (goal_p - p) - c_pup * pv
                ra = k_pup * (goal_r - r) - c_pup * rv
            else:
                pa = (board_mgh * sp * cr - damp_b * pv) * inv_jb
                ra = (board_mgh * cp * sr - damp_b * rv) * inv_jb
                if ret_steps >= 0:
                    off_steps += 1
                    if off_steps >= ret_steps:
                        self._p, self._r_ang, self._pv, self._rv = p, r, pv, rv
                        self._enter()
                        mode = self._mode
                        recovering = True
                        person_flag = _FLAG_PERSON
            p_new = p + pv * dt + pa * hdt2
            r_new = r + rv * dt + ra * hdt2
            pv_new = pv + pa * dt
            rv_new = rv + ra * dt
            hit = False
            # |tilt| ≤ hypot(pitch, roll), so the exact test is needed only outside the edge circle.
            if p_new * p_new + r_new * r_new > edge2 and cos(p_new) * cos(r_new) < cos_edge:
                # Back onto the cone |tilt| = edge (scale along the same direction; Newton).
                lam = edge / math.hypot(p_new, r_new)
                for _k in range(3):
                    cpl, crl = cos(lam * p_new), cos(lam * r_new)
                    f = cpl * crl - cos_edge
                    df = -p_new * sin(lam * p_new) * crl - r_new * cpl * sin(lam * r_new)
                    lam -= f / df
                p_new *= lam
                r_new *= lam
                # Inelastic: drop the outward part of the angular velocity.
                gp = sin(p_new) * cos(r_new)
                gr = cos(p_new) * sin(r_new)
                gn = math.hypot(gp, gr)
                gp /= gn
                gr /= gn
                v_out = pv_new * gp + rv_new * gr
                if v_out > 0.0:
                    pv_new -= v_out * gp
                    rv_new -= v_out * gr
                # Friction at the rim's floor contact slows rolling along the rim.
                pv_new *= rim_keep
                rv_new *= rim_keep
                pa = (pv_new - pv) / dt
                ra = (rv_new - rv) / dt
                hit = not on_edge
                new_edge = True
            else:
                new_edge = False
            # Rolling without slipping: centre velocity r·(ω_y, −ω_x), ω = (ṙ·cos p, ṗ, −ṙ·sin p).
            ax = rb * pa
            ay = rb * (rv * pv * sp - ra * cp)
            ext((p, r, pv, rv, pa, ra, x, y, person_flag | (_FLAG_EDGE if on_edge else 0)))
            x += rb * pv * dt + ax * hdt2
            y += -rb * rv * cp * dt + ay * hdt2
            p, r, pv, rv = p_new, r_new, pv_new, rv_new
            on_edge = new_edge
            if hit and person_flag:
                if mode == _MODE_PERSON:
                    recovering = True
                if p_off > 0.0 and ev_random() < p_off:
                    self._p, self._r_ang, self._pv, self._rv = p, r, pv, rv
                    self._leave()
                    pv, rv = self._pv, self._rv
                    mode = _MODE_EMPTY
                    person_flag = 0
                    off_steps = 0

        self._p, self._r_ang, self._pv, self._rv = p, r, pv, rv
        self._x, self._y = x, y
        self._on_edge = on_edge
        self._mode = mode
        self._recovering = recovering
        self._target = (tgt_p, tgt_r)
        self._ff = (ff_p, ff_r)
        self._noise = (n_p, n_r)
        self._delay_index = di
        self._noise_block = zs
        self._noise_pos = zi
        self._off_steps = off_steps
        self._steps += n

    def _trim(self, keep_from: int) -> None:
        """Bound the history to about ``history_s``, keeping every step from ``keep_from`` on.

        Whole chunks are dropped at once so the amortised cost stays tiny.
        """
        stored = len(self._hist) // _FIELDS
        if stored > 2 * self._history_steps:
            first_kept = min(keep_from, self._steps - self._history_steps)
            drop = first_kept - self._hist_base
            if drop > 0:
                del self._hist[: drop * _FIELDS]
                self._hist_base += drop

    # -- queries -----------------------------------------------------------------------------------
    def _states(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows of stored step state, time into the step, step indices) for each time."""
        if len(times) == 0:
            return np.zeros((0, _FIELDS)), np.zeros(0), np.zeros(0, dtype=np.int64)
        rel = (times - self.start_time) * self.physics_rate_hz
        idx = np.maximum(np.floor(rel + 1e-9).astype(np.int64), 0)
        lo = int(idx.min())
        self._trim(lo)
        self._advance_to_time(float(np.max(times)))
        if lo < self._hist_base:
            raise ValueError(
                f"time {float(np.min(times)):.3f} s is older than the kept history "
                f"({self._history_steps * self.dt:.1f} s); query times must not go backwards"
            )
        hi = int(idx.max())
        block = np.array(
            self._hist[(lo - self._hist_base) * _FIELDS : (hi - self._hist_base + 1) * _FIELDS]
        ).reshape(-1, _FIELDS)
        rows = block[idx - lo]
        s = np.maximum(times - (self.start_time + idx * self.dt), 0.0)
        # Before start_time the board is at its initial state.
        s = np.where(rel < 0, 0.0, s)
        return rows, s, idx

    def _kinematics(self, times: np.ndarray) -> dict[str, np.ndarray]:
        rows, s, _ = self._states(np.asarray(times, dtype=float))
        p0, r0, pv0, rv0, pa, ra, x0, y0, flags = rows.T
        rb = self._r
        p = p0 + pv0 * s + 0.5 * pa * s * s
        r = r0 + rv0 * s + 0.5 * ra * s * s
        pv = pv0 + pa * s
        rv = rv0 + ra * s
        cp0 = np.cos(p0)
        sp0 = np.sin(p0)
        vx0 = rb * pv0
        vy0 = -rb * rv0 * cp0
        ax = rb * pa
        ay = rb * (rv0 * pv0 * sp0 - ra * cp0)
        x = x0 + vx0 * s + 0.5 * ax * s * s
        y = y0 + vy0 * s + 0.5 * ay * s * s
        return {
            "p": p, "r": r, "pv": pv, "rv": rv, "pa": pa, "ra": ra,
            "x": x, "y": y, "ax": ax, "ay": ay, "flags": flags,
        }  # fmt: skip

    def _imu_lever(self) -> tuple[float, float, float]:
        ox, oy = self.board.imu_offset_m
        return float(ox), float(oy), float(self.board.deck_height_m)

    def motion_at(self, times: np.ndarray) -> Motion:
        """Ideal sensor-frame specific force and angular rate at ``times`` (no sensor errors)."""
        times = np.asarray(times, dtype=float)
        k = self._kinematics(times)
        p, r, pv, rv, pa, ra = k["p"], k["r"], k["pv"], k["rv"], k["pa"], k["ra"]
        sp, cp, sr, cr = np.sin(p), np.cos(p), np.sin(r), np.cos(r)
        # Written out per component: this runs ~100 times a second on small arrays, where
        # np.cross and friends cost more than the arithmetic.
        # Body-frame angular velocity w and acceleration a of R = R_y(p)·R_x(r).
        wx, wy, wz = rv, pv * cr, -pv * sr
        pvrv = pv * rv
        ax_, ay_, az_ = ra, pa * cr - pvrv * sr, -pa * sr - pvrv * cr
        # Earth acceleration of the sphere centre plus gravity's reaction, in the board frame.
        ex, ey, g = k["ax"], k["ay"], STANDARD_GRAVITY
        fx = cp * ex - sp * g
        fy = sp * sr * ex + cr * ey + cp * sr * g
        fz = sp * cr * ex - sr * ey + cp * cr * g
        # Lever arm to the IMU: tangential (a × o) and centripetal (w × (w × o)) terms.
        ox, oy, oz = self._imu_lever()
        cx, cy, cz = wy * oz - wz * oy, wz * ox - wx * oz, wx * oy - wy * ox
        fx = fx + ay_ * oz - az_ * oy + wy * cz - wz * cy
        fy = fy + az_ * ox - ax_ * oz + wz * cx - wx * cz
        fz = fz + ax_ * oy - ay_ * ox + wx * cy - wy * cx
        f_b = np.stack([fx, fy, fz], axis=-1)
        w_b = np.stack([wx, wy, wz], axis=-1)
        if not self._identity_mount:
            f_b = f_b @ self._mount_t.T
            w_b = w_b @ self._mount_t.T
        return Motion(
            specific_force=f_b,
            angular_rate=w_b,
            temperature_c=self.temperature_at(times),
        )

    def temperature_at(self, times: np.ndarray) -> np.ndarray:
        """Die temperature: ambient plus a slow warm-up from ``start_time``."""
        elapsed = np.maximum(np.asarray(times, dtype=float) - self.start_time, 0.0)
        return AMBIENT_TEMPERATURE_C + WARMUP_RISE_C * (1.0 - np.exp(-elapsed / WARMUP_TIME_S))

    def truth_at(self, times: np.ndarray) -> BoardTruth:
        """Board angles, sensor orientation and contact state at ``times``."""
        times = np.asarray(times, dtype=float)
        k = self._kinematics(times)
        p, r = k["p"], k["r"]
        hp, hr = 0.5 * p, 0.5 * r
        chp, shp, chr_, shr = np.cos(hp), np.sin(hp), np.cos(hr), np.sin(hr)
        # q_y(p) ⊗ q_x(r), then ⊗ mounting (sensor→board) gives sensor→earth.
        q_board = np.stack([chp * chr_, chp * shr, shp * chr_, -shp * shr], axis=-1)
        q = _quat_multiply(q_board, np.broadcast_to(self.mounting, q_board.shape))
        flags = k["flags"].astype(np.int64)
        sp, cp, sr, cr = np.sin(p), np.cos(p), np.sin(r), np.cos(r)
        ox, oy, oz = self._imu_lever()
        pos = np.stack(
            [
                k["x"] + cp * ox + sp * sr * oy + sp * cr * oz,
                k["y"] + cr * oy - sr * oz,
                self._r - sp * ox + cp * sr * oy + cp * cr * oz,
            ],
            axis=-1,
        )
        return BoardTruth(
            pitch_rad=p,
            roll_rad=r,
            quaternion=q,
            on_edge=(flags & _FLAG_EDGE) != 0,
            person_on_board=(flags & _FLAG_PERSON) != 0,
            sensor_position_m=pos,
            pitch_rate_rad_s=k["pv"],
            roll_rate_rad_s=k["rv"],
        )


def simulate(
    duration_s: float,
    rate_hz: float,
    person: PersonParams | None = None,
    board: BoardGeometry | None = None,
    mounting: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
    chip: str | None = "MPU-6050",
    seed: int = 0,
    noise_bandwidth_hz: float | None = None,
    physics_rate_hz: float = 1000.0,
) -> SimulatedRecording:
    """Offline recording of ``duration_s`` at ``rate_hz`` with ``chip``'s sensor errors.

    ``chip=None`` gives ideal readings. White noise uses ``noise_bandwidth_hz`` (default: the
    Nyquist frequency, i.e. no chip filter). Samples are at ``k / rate_hz``, k = 0 … n−1.
    """
    from wobble_trainer.sim.sensor_errors import ERROR_SPECS, SensorErrors

    sim = BoardSimulator(
        person=person, board=board, mounting=mounting, seed=seed, physics_rate_hz=physics_rate_hz
    )
    errors = SensorErrors.none() if chip is None else SensorErrors(ERROR_SPECS[chip], seed)
    bandwidth = noise_bandwidth_hz if noise_bandwidth_hz is not None else rate_hz / 2.0
    n = int(round(duration_s * rate_hz))
    t = np.arange(n) / rate_hz
    acc, gyr, temp = np.empty((n, 3)), np.empty((n, 3)), np.empty(n)
    pitch, roll, on_edge, on_board = np.empty(n), np.empty(n), np.empty(n, bool), np.empty(n, bool)
    quat, pos = np.empty((n, 4)), np.empty((n, 3))
    pv, rv = np.empty(n), np.empty(n)
    # Chunks of one second keep every query inside the simulator's bounded history.
    chunk = max(1, int(rate_hz))
    for i in range(0, n, chunk):
        sl = slice(i, min(i + chunk, n))
        times = t[sl]
        motion = sim.motion_at(times)
        truth = sim.truth_at(times)
        acc[sl], gyr[sl] = errors.apply(motion, times, bandwidth)
        temp[sl] = motion.temperature_c
        pitch[sl], roll[sl], quat[sl] = truth.pitch_rad, truth.roll_rad, truth.quaternion
        on_edge[sl], on_board[sl], pos[sl] = (
            truth.on_edge,
            truth.person_on_board,
            truth.sensor_position_m,
        )
        pv[sl], rv[sl] = truth.pitch_rate_rad_s, truth.roll_rate_rad_s
    truth_all = BoardTruth(
        pitch_rad=pitch,
        roll_rad=roll,
        quaternion=quat,
        on_edge=on_edge,
        person_on_board=on_board,
        sensor_position_m=pos,
        pitch_rate_rad_s=pv,
        roll_rate_rad_s=rv,
    )
    return SimulatedRecording(t=t, acc=acc, gyr=gyr, truth=truth_all, temperature_c=temp)


__all__ = [
    "BoardGeometry",
    "BoardSimulator",
    "BoardTruth",
    "PersonParams",
    "SimulatedRecording",
    "simulate",
]
