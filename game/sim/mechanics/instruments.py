"""The instruments of a procedure: coaxial devices entering through one sheath, moved at their hubs, one step at a time.

All inserted devices share one centreline, the *composite rod* (a wire inside a catheter lies on the catheter's
axis): it runs from the sheath to the furthest tip. Its nodes sit at fixed arc lengths from the sheath, every
:data:`NODE_SPACING_MM` (the last edge, to the tip, is 0.5-1.5 spacings long). Each device covers the stretch from
the sheath to its own inserted length, so at every joint the rod has the summed stiffness of the devices present
there and the stiffness-weighted mean of their rest curvatures, each turned by its own hub angle
(:func:`~game.sim.mechanics.rod.rest_turn`). Advancing a device moves its material, and with it its stiffness
and pre-shaped curve, along the rod; the tip end grows along the tip's direction or retreats along the rod's own
path (follow-the-leader), and the elastic solve then finds the shape. A stiff wire straightens a shaped catheter
where they overlap; pull it back and the catheter's curve re-forms; a wire leading out of the catheter is a thin,
floppy rod on its own. Which branch a tip enters follows from this mechanics and the lumen alone.

Per step (``dt_s``, 1/60 s intended): apply the hub controls within :mod:`~game.sim.mechanics.insertion`'s rules,
grow or shorten the rod, locate the nodes that moved in the lumen, build the material frame (when the shape has
moved) and the rest turns, run up to :data:`NEWTON_ITERATIONS` banded Newton iterations
(:class:`~game.sim.mechanics.rod.RodSolver`), then read the devices' tip forces and report complications (see
:mod:`~game.sim.mechanics.contact`). A tip force that could count (half a device's limit) is only read from a
converged step: the solve settles it (up to :data:`SETTLE_ITERATIONS` more iterations), and if nodes at the tip
moved within the step past the reach of the walls found at its start, they are found again and the step is finished
against the real walls (up to :data:`WALL_PASSES` times). A step with no hub input after one that found the rod at
rest changes nothing and is skipped. Wall friction acts along the rod, against the sliding of the outermost device,
at mu times the wall force of the previous step (sideways friction is not modelled; the hub turns the tip 1:1).
"""

from __future__ import annotations

import numpy as np

from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.devices.catalogue import Device, DeviceKind
from game.sim.mechanics.contact import (
    PERFORATION_FORCE_RATIO,
    REARM_FORCE_RATIO,
    ComplicationEvent,
    Location,
    LumenIndex,
    classify,
    tip_window,
)
from game.sim.mechanics.insertion import MAX_ADVANCE_MM_PER_S, MAX_ROTATE_DEG_PER_S, AccessSite, insert
from game.sim.mechanics.profiles import DeviceProfile
from game.sim.mechanics.rod import (
    Clamp,
    RodSolver,
    edge_frames,
    joint_frames,
    reaction_N,
    rest_turn,
    row_dot,
    row_norm,
)
from game.sim.mechanics.stent import DeployedStent, held_open_radius_mm, place_stent

#: Arc length between rod nodes, mm: resolves a 6 mm angled wire tip with two to three joints (enough for it to
#: choose branches reliably) and keeps a 330 mm insertion at ~130 nodes, within the time budget of a step.
NODE_SPACING_MM = 2.5
#: Most Newton iterations per step; warm-started from the previous step, 1-3 usually reach the tolerance.
NEWTON_ITERATIONS = 5
#: Further iterations for a step that reads a tip force that could count (half the device's limit: see
#: :func:`~game.sim.mechanics.contact.classify`) before it has converged, so that the force is read from converged
#: contact (see :mod:`~game.sim.mechanics.rod`): typically a node that has just arrived through the wall, or a tip
#: balanced on the lip of an ostium. Either takes 5-30 to slide off; a real push converges in a few.
SETTLE_ITERATIONS = 30
#: A step's iterations stop once no node moves more than this, mm.
NEWTON_TOLERANCE_MM = 0.01
#: Drag on the rod per mm of length, N*s/mm^2. Stokes drag of a slender rod in blood (3.5 mPa*s) is ~1e-8, i.e.
#: the rod is quasi-static; this larger (still negligible) value only keeps the Newton system well posed for a
#: floppy span no wall touches. A floppy tip settles within a few steps.
DRAG_N_S_PER_MM2 = 1e-6
#: The material frame is rebuilt once the rod has moved this far (mm) since it was last built (see _joint_frames).
FRAME_REFRESH_MM = 0.5
#: A node is searched for in the lumen again once it has moved this far since it was last located, mm: its local
#: wall (the tube of the centreline segment it was found at, ~1 mm long) stays accurate over that distance.
RELOCATE_DISTANCE_MM = 0.25
#: Times a step is finished again against walls found anew, when it read a tip force that counts while nodes had
#: moved past the reach of the walls found at its start (see Instruments.step).
WALL_PASSES = 2
#: A node found in another vessel than its proximal neighbour stays in the neighbour's vessel if the edge between
#: them leaves the lumen by more than this, mm (a wall between them; see Instruments._stay_out_of_walls).
TUNNEL_TOLERANCE_MM = 0.1
_LOCATION_FIELDS = (
    "sample", "centre_mm", "segment_start_mm", "segment_mm", "segment_limits", "radius_mm", "clearance_mm", "branch",
    "s_mm",
)  # fmt: skip
#: Below this inserted length the device is still in the sheath's tip and is not solved, mm.
_MIN_FREE_LENGTH_MM = NODE_SPACING_MM / 2.0
#: The sheath's reference for hub angle 0: the tip's curve bends toward the patient's front (-y) in the sheath.
_ANTERIOR = np.array([0.0, -1.0, 0.0])
#: Stiffness floor at a joint, N*mm^2, so that a cell no device covers cannot make the system singular.
_MIN_STIFFNESS_N_MM2 = 1e-3


class Instruments:
    """The devices of one procedure and their shared mechanics. Static: tree, access, devices; the rest is state."""

    def __init__(
        self, tree: VesselTree, access: AccessSite, devices: dict[str, Device], *, lumen: LumenIndex | None = None
    ):
        if access.branch not in tree:
            raise ValueError(f"access branch {access.branch!r} is not in the vessel tree")
        self.tree = tree
        self.access = access
        self.names: tuple[str, ...] = tuple(devices)
        self.devices: dict[str, Device] = dict(devices)
        self._device_list = [devices[n] for n in self.names]
        self._profiles = [DeviceProfile.of(d) for d in self._device_list]
        self._radius_mm = np.array([d.radius_mm for d in self._device_list])
        self._friction = np.array([d.friction_coefficient for d in self._device_list])
        self._limit_N = np.array([d.max_tip_force_N for d in self._device_list])
        self._lumen = lumen if lumen is not None else LumenIndex(tree)
        self._solver = RodSolver()
        self.clamp = _sheath_clamp(tree, access)
        count = len(self.names)
        # --- mutable state (see state_arrays) ---
        self._x = self.clamp.position_mm[None, :].copy()
        self._edge = np.zeros(0)
        # Where each node was last found in the lumen, and where the node was then (see _locate_moved).
        seed = self._lumen.locate(self._x, np.array([self._lumen.seed(access.branch, access.position_mm)]))
        self._where = {name: getattr(seed, name) for name in _LOCATION_FIELDS}
        self._located_at = self._x.copy()
        self._force = np.zeros(1)
        self._normal = np.zeros((1, 3))
        self._inserted = np.zeros(count)
        self._angle = np.zeros(count)
        self._speed = np.zeros(count)
        self._tip_force = np.zeros(count)
        self._reported = np.zeros(count, dtype=np.int64)
        self._deployed = np.zeros(count, dtype=bool)
        self._sample_radius = self._lumen.radius_mm.copy()
        self._time = np.zeros(1)
        self._at_rest = np.zeros(1, dtype=bool)  # the last step had no input and found the rod at equilibrium
        self._frames = (np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3)))  # shape they were made for, frames
        self._geometry_cache: tuple = (None, 0.0, np.zeros(1))  # see _geometry
        self.complications: list[ComplicationEvent] = []
        self.deployed_stents: list[DeployedStent] = []

    # --- the step ---------------------------------------------------------------------------------------------
    def step(self, dt_s: float, controls: dict[str, tuple[float, float]]) -> list[ComplicationEvent]:
        """Advance all instruments by one fixed step. ``controls[name] = (advance_mm_per_s, rotate_deg_per_s)``
        at that instrument's hub; missing names are held still. Returns the complications of this step."""
        for name in controls:
            if name not in self.devices:
                raise KeyError(f"no instrument called {name!r} (have {', '.join(self.names)})")
        advance = np.array([controls.get(n, (0.0, 0.0))[0] for n in self.names], dtype=float)
        rotate = np.array([controls.get(n, (0.0, 0.0))[1] for n in self.names], dtype=float)
        advance = np.minimum(MAX_ADVANCE_MM_PER_S, np.maximum(-MAX_ADVANCE_MM_PER_S, advance))  # = np.clip
        rotate = np.minimum(MAX_ROTATE_DEG_PER_S, np.maximum(-MAX_ROTATE_DEG_PER_S, rotate))
        new = insert(self._device_list, self._inserted, self._inserted + advance * dt_s, self.access.sheath_fr)
        idle = bool((new == self._inserted).all() and (rotate == 0.0).all())
        self._speed = (new - self._inserted) / dt_s
        self._inserted = new
        self._angle = self._angle + np.radians(rotate) * dt_s
        self._resize(float(new.max(initial=0.0)))
        self._time = self._time + dt_s
        events: list[ComplicationEvent] = []
        if self.rod_length_mm < _MIN_FREE_LENGTH_MM:
            self._tip_force[:] = 0.0
            return events
        if idle and self._at_rest[0]:
            self._solver.last_iterations = 0
            return events  # nothing moved the hubs and the rod was found at rest: the solve would change nothing
        location, _ = self._locate_moved()
        stiffness, layers, radius, outer = self._material()
        normal, binormal = self._joint_frames()
        beta = rest_turn(normal, binormal, layers)
        t = self._x[1:] - self._x[:-1]
        node_tangent = np.concatenate([t, t[-1:]])
        node_tangent[1:-1] += t[:-1]
        friction = -(self._friction[outer] * self._force * np.sign(self._speed[outer]))[:, None] * node_tangent
        friction /= np.maximum(row_norm(node_tangent), 1e-12)
        windows = self._tip_windows(outer)
        counts_from = self._counts_from_N()
        watch = tuple((rows, counts_from[d]) for d, rows in enumerate(windows) if len(rows) and counts_from[d] < np.inf)
        watched = np.concatenate([rows for rows, _ in watch]) if watch else np.zeros(0, dtype=int)
        start, contact_N = self._x, self._force
        for attempt in range(WALL_PASSES + 1):
            result = self._solver.solve(
                self._x,
                self._edge,
                stiffness,
                beta,
                self.clamp,
                iterations=NEWTON_ITERATIONS,
                tolerance_mm=NEWTON_TOLERANCE_MM,
                settle_iterations=SETTLE_ITERATIONS,
                watch=watch,
                contact_N=contact_N,
                walls=location.walls(radius),
                force_N=friction,
                anchor_mm=start,
                drag_N_per_mm=DRAG_N_S_PER_MM2 * NODE_SPACING_MM / dt_s,
            )
            self._x, self._force, self._normal = result.x_mm, result.normal_force_N, result.normal
            counts = any(reaction_N(result.normal_force_N, result.normal, rows) >= at_least for rows, at_least in watch)
            if attempt == WALL_PASSES or not counts:
                break
            # A tip force that counts, read against walls found where the nodes stood at the start of the step:
            # nodes that have since moved past their local wall's reach (a tip snapping out of an ostium) may be
            # pressed on a wall that is not there. Find them again and finish the step against the real walls.
            location, changed = self._locate_moved()
            if not np.isin(watched, changed).any():
                break
            contact_N = result.normal_force_N
        self._at_rest[0] = idle and result.at_rest
        events = self._check_tips(location, windows)
        self.complications.extend(events)
        return events

    # --- geometry of the composite rod ------------------------------------------------------------------------
    @property
    def rod_length_mm(self) -> float:
        return self._geometry()[1]

    @property
    def time_s(self) -> float:
        return float(self._time[0])

    def _node_s(self) -> np.ndarray:
        """Arc length of every node from the sheath, mm (shared: do not modify)."""
        return self._geometry()[2]

    def _geometry(self) -> tuple[np.ndarray, float, np.ndarray]:
        """The rod's length and its nodes' arc lengths, computed once for each ``_edge`` array (which is only ever
        replaced, never changed in place): ``(edge array they are for, length mm, node arc lengths mm)``."""
        cached = self._geometry_cache
        if cached[0] is not self._edge:
            edge = self._edge
            cached = (edge, float(edge.sum()), np.concatenate([[0.0], np.add.accumulate(edge)]))
            self._geometry_cache = cached
        return cached

    def _resize(self, length_mm: float) -> None:
        """Grow the rod's tip along its direction or pull it back along the rod's own path to ``length_mm``."""
        old = self.rod_length_mm
        if length_mm == old:
            return
        h = NODE_SPACING_MM
        n = len(self._edge)
        if length_mm > old:
            base, keep = (n - 1, n) if n else (0, 1)
            if n:
                direction = self._x[n] - self._x[n - 1]
                direction /= _norm(direction)
                total = self._edge[-1] + length_mm - old
            else:
                direction, total = self.clamp.direction, length_mm
            full = max(0, int(np.floor(total / h - 0.5)))
            added = self._x[base] + np.outer(np.append(np.arange(1, full + 1) * h, total), direction)
            self._x = np.vstack([self._x[:keep] if n == 0 else self._x[:n], added])
            self._edge = np.concatenate([self._edge[: n - 1] if n else [], np.full(full, h), [total - full * h]])
        elif length_mm <= 0.0:
            self._x, self._edge = self._x[:1].copy(), np.zeros(0)
        else:
            s = self._node_s()
            full = max(0, int(np.floor(length_mm / h - 0.5)))
            j = _clamp_index(int(s.searchsorted(length_mm, side="right")) - 1, n - 1)
            target = self._x[j] + (length_mm - s[j]) / self._edge[j] * (self._x[j + 1] - self._x[j])
            direction = target - self._x[full]
            norm = _norm(direction)
            if norm < 1e-9:
                direction, norm = self._x[full + 1] - self._x[full], _norm(self._x[full + 1] - self._x[full])
            tip = self._x[full] + (length_mm - full * h) * direction / norm
            self._x = np.vstack([self._x[: full + 1], tip])
            self._edge = np.concatenate([self._edge[:full], [length_mm - full * h]])
            self._where = {name: _fit(values, full + 1) for name, values in self._where.items()}
            self._located_at = _fit(self._located_at, full + 1)
        size = len(self._x)
        self._force = _fit(self._force, size, 0.0)
        self._normal = _fit(self._normal, size, 0.0)
        self._where = {name: _fit(values, size) for name, values in self._where.items()}
        self._located_at = _fit(self._located_at, size, np.inf)  # new nodes are located at the next step

    def _locate_moved(self) -> tuple[Location, np.ndarray]:
        """Where every node is in the lumen, and the nodes whose wall changed. Searched again are the nodes that moved
        more than :data:`RELOCATE_DISTANCE_MM` since they were last located (in this Eulerian rod most nodes stay put as
        material slides through them) and those pressing on the cap of a vessel's end (where children may continue: the
        tube they belong to may change without much motion). A node pressed beside a side branch's opening keeps its
        vessel's wall - a conservative part of the lumen - until it moves on.

        A node changes vessel only through the lumen: it is not moved into a vessel other than its proximal
        neighbour's when the edge between them would leave the lumen (see :meth:`_stay_out_of_walls`)."""
        moved = self._x - self._located_at
        at_vessel_end = np.isfinite(self._where["segment_limits"]).any(axis=1)
        pressed_at_end = (self._force > 0.0) & at_vessel_end
        rows = ((row_dot(moved, moved) > RELOCATE_DISTANCE_MM**2) | pressed_at_end).nonzero()[0]
        changed = rows[:0]
        if len(rows):
            found = self._lumen.locate(self._x[rows], self._where["sample"][rows], self._sample_radius)
            before = {name: self._where[name][rows] for name in ("branch", "sample", "segment_start_mm")}
            for name in _LOCATION_FIELDS:
                self._where[name][rows] = getattr(found, name)
            self._located_at[rows] = self._x[rows]
            switched = found.branch != before["branch"]
            if switched.any():
                self._stay_out_of_walls(rows[switched], before["branch"][switched], before["sample"][switched])
            changed = rows[(self._where["segment_start_mm"][rows] != before["segment_start_mm"]).any(axis=1)]
        return Location(**self._where), changed

    def _stay_out_of_walls(self, rows: np.ndarray, old_branch: np.ndarray, old_sample: np.ndarray) -> None:
        """Undo the vessel changes of nodes ``rows`` (ascending) that would put a wall between a node and its
        proximal neighbour.

        Each node has the wall of one vessel, and is found in the vessel that contains it most deeply. Where two
        vessels run side by side (the SMA along the aorta) a node pushed a few tenths of a millimetre through the
        wall, or a tip drawn back along the chord of an edge that cuts a corner, can be found in the neighbouring
        vessel; the edge to its neighbour then passes through the wall between them, and the two wall constraints
        hold the edge across it. A wire pulled back then has its tip caught on the far side of that wall, levered
        harder the shorter its last edge gets. Such a node keeps its neighbour's vessel: the solve puts it back on
        that vessel's wall. A node that really enters a branch does so through its opening, with the edge in the
        lumen, and is not affected."""
        where, x = self._where, self._x
        for j, branch, sample in zip(rows, old_branch, old_sample, strict=True):
            if j == 0 or where["branch"][j] == where["branch"][j - 1]:
                continue
            seeds = (int(where["sample"][j - 1]), int(where["sample"][j]))
            if self._lumen.chord_clearance_mm(x[j - 1], x[j], seeds, self._sample_radius) >= -TUNNEL_TOLERANCE_MM:
                continue
            seed = sample if branch == where["branch"][j - 1] else where["sample"][j - 1]
            kept = self._lumen.locate(x[j : j + 1], np.array([seed]), self._sample_radius, other_branches=False)
            for name in _LOCATION_FIELDS:
                where[name][j] = getattr(kept, name)[0]

    def _joint_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Material frame (normal, binormal) of every joint at hub angle 0. Recomputed only when nodes were added
        or removed or the shape moved more than :data:`FRAME_REFRESH_MM` since: the rest turns follow each joint's
        current direction inside the energy, so a frame only has to say which way round the rod the curve lies."""
        cached = self._frames
        if cached[0].shape != self._x.shape or np.abs(self._x - cached[0]).max() > FRAME_REFRESH_MM:
            t, u, _ = edge_frames(self._x, self.clamp)
            self._frames = (self._x.copy(), *joint_frames(t, u))
        return self._frames[1], self._frames[2]

    def _material(self) -> tuple[np.ndarray, list, np.ndarray, np.ndarray]:
        """Per joint: summed stiffness and each device's layer; per node: outer radius and the outermost device."""
        s = self._node_s()
        n = len(self._edge)
        low = np.concatenate([[0.0], s[1:n] - self._edge[:-1] / 2.0])
        high = s[:n] + self._edge / 2.0
        stiffness = np.full(n, _MIN_STIFFNESS_N_MM2)
        layers = []
        cover = np.zeros((len(self.names), n + 1))
        for d, profile in enumerate(self._profiles):
            inserted = self._inserted[d]
            if inserted <= 0.0:
                continue
            ei = profile.mean_stiffness_N_mm2(inserted - high, inserted - low)
            layers.append((ei, profile.turning_rad(inserted - high, inserted - low), self._angle[d]))
            stiffness += ei
            cover[d] = self._radius_mm[d] * np.minimum(1.0, np.maximum(0.0, (inserted - s) / NODE_SPACING_MM + 1.0))
        outer = np.argmax(cover, axis=0)
        return stiffness, layers, cover[outer, np.arange(n + 1)], outer

    def _point_at(self, s_mm: float) -> np.ndarray:
        """Point of the rod at arc length ``s_mm`` from the sheath (behind the sheath: on its axis, outside)."""
        if s_mm <= 0.0 or not len(self._edge):
            return self.clamp.position_mm + min(s_mm, 0.0) * self.clamp.direction
        s = self._node_s()
        j = _clamp_index(int(s.searchsorted(s_mm, side="right")) - 1, len(self._edge) - 1)
        f = min((s_mm - s[j]) / self._edge[j], 1.0)
        return self._x[j] + f * (self._x[j + 1] - self._x[j])

    # --- tip force and complications --------------------------------------------------------------------------
    def _tip_windows(self, outer: np.ndarray) -> list[np.ndarray]:
        """Per device, the nodes whose wall reaction is its tip force: the rod's distal
        :data:`~game.sim.mechanics.contact.TIP_WINDOW_MM` (where its tip presses on the wall), each node counted
        for the device it hangs on.

        A node's position across the lumen is held by the joint behind it, so what a node presses on the wall is
        pressed by the device outermost at that joint: a catheter's end pushed into a wall is the catheter's
        contact whether or not a wire runs through it and out of it, and the first node of a wire just out of a
        catheter - which has no joint of its own yet, only the catheter's last one - passes on the catheter's push,
        not the wire's. The wire's own tip force starts with the first node beyond a joint of wire alone.
        """
        rows = tip_window(self._node_s(), self.rod_length_mm)
        owner = outer[np.maximum(rows - 1, 0)]  # the device outermost at the node behind each
        return [rows[owner == d] for d in range(len(self.names))]

    def _counts_from_N(self) -> np.ndarray:
        """Per device, the tip force from which on a reading matters (see
        :func:`~game.sim.mechanics.contact.classify`): half its limit; once the push has been reported as a
        dissection, what would make it a perforation; after a perforation, nothing more (infinity)."""
        factor = np.choose(np.minimum(self._reported, 2), [REARM_FORCE_RATIO, PERFORATION_FORCE_RATIO, np.inf])
        return factor * self._limit_N

    def _check_tips(self, location, windows: list[np.ndarray]) -> list[ComplicationEvent]:
        events = []
        for d, rows in enumerate(windows):
            force = reaction_N(self._force, self._normal, rows)
            self._tip_force[d] = force
            limit = self._device_list[d].max_tip_force_N
            kind, self._reported[d] = classify(force, limit, int(self._reported[d]))
            if kind is not None:
                at = int(rows[-1])  # the node at (or next behind) its tip
                branch = self.tree.branches[int(location.branch[at])].name
                where = float(location.s_mm[at])
                events.append(ComplicationEvent(self.time_s, kind, self.names[d], branch, where, force))
        return events

    # --- stents -----------------------------------------------------------------------------------------------
    def deploy_stent(self, name: str) -> DeployedStent | None:
        """Expand ``name``'s stent where it stands (between its markers); None if it is not a stent, already
        deployed, or not wholly inside the vessel. The lumen under the stent is held open from then on."""
        d = self.names.index(name)
        device = self._device_list[d]
        if device.kind != DeviceKind.STENT or self._deployed[d]:
            return None
        ends_u = self._profiles[d].marker_u_mm
        ends_s = [self._inserted[d] - u for u in ends_u]
        if min(ends_s) <= 0.0:
            return None
        ends = np.array([self._point_at(s) for s in ends_s])
        middle = self._point_at(float(np.mean(ends_s)))
        stent = place_stent(self.tree, name, ends, middle, device.stent_diameter_mm, self.time_s)
        if stent is None:
            return None
        self._deployed[d] = True
        self._sample_radius = held_open_radius_mm(
            self._sample_radius, self.tree, self._lumen.branch, self._lumen.s_mm, stent
        )
        self.deployed_stents.append(stent)
        self._located_at[:] = np.inf  # the lumen changed: find every node again
        self._at_rest[0] = False
        return stent

    # --- read-only views --------------------------------------------------------------------------------------
    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no instrument called {name!r} (have {', '.join(self.names)})") from None

    def inserted_mm(self, name: str) -> float:
        return float(self._inserted[self._index(name)])

    def nodes_mm(self, name: str) -> np.ndarray:
        """(N, 3) node positions of the inserted part of ``name``, sheath side first, tip last (a copy)."""
        inserted = self._inserted[self._index(name)]
        if inserted <= 0.0:
            return self.clamp.position_mm[None, :].copy()
        s = self._node_s()
        inside = s < inserted - 1e-9
        return np.vstack([self._x[inside], self._point_at(inserted)])

    def tip_mm(self, name: str) -> np.ndarray:
        return self._point_at(self._inserted[self._index(name)])

    def tip_direction(self, name: str) -> np.ndarray:
        """Unit direction of ``name``'s tip (the rod's direction where its tip lies)."""
        inserted = self._inserted[self._index(name)]
        if inserted <= 0.0 or not len(self._edge):
            return self.clamp.direction.copy()
        s = self._node_s()
        j = _clamp_index(int(s.searchsorted(inserted, side="left")) - 1, len(self._edge) - 1)
        e = self._x[j + 1] - self._x[j]
        return e / _norm(e)

    def tip_branch(self, name: str) -> str | None:
        """The branch containing ``name``'s tip, or None (outside the lumen or not inserted)."""
        if self._inserted[self._index(name)] <= 0.0:
            return None
        return self.tree.branch_of(self.tip_mm(name))

    def tip_force_N(self, name: str) -> float:
        """The wall's reaction on ``name``'s tip at the last step, N: on the nodes at the rod's tip that hang on it
        (zero unless its tip is the rod's tip, or just behind a wire that has only begun to leave it)."""
        return float(self._tip_force[self._index(name)])

    def markers_mm(self, name: str) -> np.ndarray:
        """(k, 3) radiopaque markers: a catheter's tip marker, a stent's two end markers; none for a wire."""
        d = self._index(name)
        points = [self._point_at(self._inserted[d] - u) for u in self._profiles[d].marker_u_mm]
        return np.array(points).reshape(-1, 3)

    def hub_angle_deg(self, name: str) -> float:
        return float(np.degrees(self._angle[self._index(name)]))

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Copies of all mutable state, for hashing and snapshots."""
        return {
            "x_mm": self._x.copy(),
            "edge_mm": self._edge.copy(),
            **{f"where_{name}": values.copy() for name, values in self._where.items()},
            "located_at_mm": self._located_at.copy(),
            "force_N": self._force.copy(),
            "normal": self._normal.copy(),
            "inserted_mm": self._inserted.copy(),
            "angle_rad": self._angle.copy(),
            "speed_mm_per_s": self._speed.copy(),
            "tip_force_N": self._tip_force.copy(),
            "reported": self._reported.copy(),
            "deployed": self._deployed.copy(),
            "sample_radius_mm": self._sample_radius.copy(),
            "time_s": self._time.copy(),
            "at_rest": self._at_rest.copy(),
            "frames_for_mm": self._frames[0].copy(),
            "frame_normal": self._frames[1].copy(),
            "frame_binormal": self._frames[2].copy(),
        }


def _clamp_index(j: int, last: int) -> int:
    """``j`` limited to ``0 .. last``."""
    return 0 if j < 0 else last if j > last else j


def _norm(v: np.ndarray) -> np.floating:
    """Length of the vector ``v``: what ``np.linalg.norm(v)`` computes, without its argument handling."""
    return np.sqrt(v.dot(v))


def _fit(values: np.ndarray, size: int, fill: float | None = None) -> np.ndarray:
    """``values`` cut or extended to ``size`` rows; new rows repeat the last one, or hold ``fill``. Values that
    already fit are returned as they are (the state arrays are replaced or changed in place, never shared)."""
    if len(values) == size:
        return values
    if len(values) > size:
        return values[:size].copy()
    pad = np.repeat(values[-1:], size - len(values), axis=0)
    if fill is not None:
        pad[...] = fill
    return np.concatenate([values, pad])


def _sheath_clamp(tree: VesselTree, access: AccessSite) -> Clamp:
    """The sheath at the access point: on the centreline, along the vessel (toward its origin if retrograde)."""
    branch = tree[access.branch]
    s = float(np.clip(access.position_mm, 0.0, branch.length_mm))
    position = branch.point_at(s)
    tangent = np.array([np.interp(s, branch.s_mm, branch.tangents[:, k]) for k in range(3)])
    direction = tangent / np.linalg.norm(tangent)
    if access.direction == "retrograde":
        direction = -direction
    normal = _ANTERIOR - (_ANTERIOR @ direction) * direction
    if np.linalg.norm(normal) < 0.1:
        normal = np.array([1.0, 0.0, 0.0]) - direction[0] * direction
    return Clamp(position, direction, normal / np.linalg.norm(normal))
