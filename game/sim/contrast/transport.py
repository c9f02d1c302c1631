"""Contrast transport on the vessel tree: injection, advection with the blood flow, splits, reflux, wash-out.

Model (DOMAIN.md section 4):

- Each branch is cut into **cells** between its 1-mm centreline samples; a cell holds a volume (a frustum of the
  lumen, mL) and an iodine concentration (mgI/mL).
- Blood flows through each branch at the flow the tree assigns (``Branch.flow_at``); at a take-off a side branch
  draws its own flow and the parent continues with the rest; at a branch's end the children share what arrives
  (the tree's Murray's-law shares, rescaled so that no blood is lost or made). A leaf's outflow leaves the tree:
  the iodine in it is **washed out** (counted in :attr:`ContrastTransport.washed_out_mg`).
- **Advection** is exact transport in *volume coordinates*: along a run of cells with one flow Q, the contents
  shift by Q dt of volume per step (CFL-free; a stenosis with a tiny volume is simply passed through). The
  iodine profile is carried as a piecewise-linear cumulative mass, so the scheme conserves iodine to rounding and
  never creates new maxima; the only smoothing is that each cell is well mixed. What leaves a run of cells enters
  the next run (and, scaled by flow share, each child) with its profile in time.
- **Injection** at the catheter tip (branch + arc length) at ``rate`` mL/s and ``concentration`` mgI/mL adds
  iodine at ``concentration * rate`` and adds the injected volume to the flow downstream of the tip (so every flow
  in the subtree downstream grows by ``1 + rate / Q``): the mixed concentration just downstream is
  ``concentration * rate / (Q + rate)``, the dilution by the local blood flow.
- **Reflux**: when the injection is faster than the local blood flow, the excess ``rate - Q`` refluxes: it
  exchanges blood with the lumen upstream of the tip over a length proportional to the excess
  (:data:`REFLUX_MM_PER_ML_PER_S`, into the parent vessel when the tip sits near an ostium). The exchange moves
  contrast upstream without creating iodine; from there the blood flow carries it back down or into other
  branches (a renal injection refluxing into the aorta opacifies the aorta below). Any injection's jet also
  mixes a little contrast about one vessel diameter upstream of the tip (:data:`JET_MIXING_DIAMETERS`), so the
  column of contrast has no knife edge at the catheter tip.

All state is two numpy arrays (per-cell concentration and the wash-out/injection totals), so a copy is a
snapshot; the step is deterministic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from game.sim.anatomy.vessel_tree import VesselTree

#: Reflux reaches this far upstream per mL/s of injection in excess of the local blood flow *(est.)*.
REFLUX_MM_PER_ML_PER_S = 10.0
MAX_REFLUX_MM = 150.0
#: Even a slower injection's jet (and the pulsatile, briefly reversing flow) mixes contrast a little upstream of
#: the tip: over this many vessel diameters, exchanging this fraction of the injection rate *(est.)*.
JET_MIXING_DIAMETERS = 1.0
JET_EXCHANGE_FRACTION = 0.3
#: Flows below this (mL/s) are treated as this, so an injection into a stagnant vessel stays finite.
MIN_FLOW_ML_PER_S = 1e-3
ML_PER_MM3 = 1e-3


@dataclass(frozen=True)
class Injection:
    """An injection at ``s_mm`` along ``branch`` (a name): ``rate_mL_per_s`` of contrast at ``mg_per_mL``."""

    branch: str
    s_mm: float
    rate_mL_per_s: float
    concentration_mg_per_mL: float


@dataclass(frozen=True)
class _Segment:
    """A run of cells ``[c0, c1)`` of one branch, between event edges, with its base flow (mL/s)."""

    branch: int
    edge0: int  # first edge (local to the branch) = index of the first cell
    edge1: int  # last edge = one past the last cell
    c0: int  # global cell indices
    c1: int
    flow: float


class ContrastTransport:
    """Iodine on a vessel tree. ``step(dt)`` advances it; ``sample_concentration()`` feeds the renderer."""

    def __init__(self, tree: VesselTree):
        self.tree = tree
        n_cells = [len(b.s_mm) - 1 for b in tree.branches]
        self.cell_first = np.concatenate([[0], np.cumsum(n_cells)[:-1]]).astype(int)
        self.n_cells = np.array(n_cells)
        volumes = []
        for b in tree.branches:
            r0, r1 = b.radii_mm[:-1], b.radii_mm[1:]
            ds = np.diff(b.s_mm)
            volumes.append(np.pi * ds * (r0 * r0 + r0 * r1 + r1 * r1) / 3.0 * ML_PER_MM3)
        self.volume_mL = np.concatenate(volumes)
        self.concentration = np.zeros(len(self.volume_mL))  # mgI/mL per cell
        self.injected_mg = 0.0
        self.washed_out_mg = 0.0
        self.injected_mL = 0.0
        self.injection: Injection | None = None
        self._attach_edge = self._attachment_edges()
        self._inlet_flow = self._consistent_flows()
        self._sample_cells = self._sample_to_cells()
        self._plan_key: tuple | None = None
        self._plan: list[_Segment] = []

    # --- set-up --------------------------------------------------------------------------------------------------
    def _attachment_edges(self) -> dict[int, int]:
        """Local edge index on the parent where each child branch leaves."""
        edges = {}
        for b in self.tree.branches:
            if b.parent is None:
                continue
            parent = self.tree.branches[b.parent]
            e = int(np.argmin(np.abs(parent.s_mm - b.parent_s_mm)))
            n = int(self.n_cells[parent.index])
            # A child leaving at the parent's very first sample is moved to the first inner edge, so that
            # what it draws comes through the parent (iodine entering the parent is then split by flow).
            edges[b.index] = min(max(e, 1), n)
        return edges

    def _consistent_flows(self) -> dict[int, float]:
        """Inlet flow (mL/s) of every branch such that blood is conserved at every take-off and branch end."""
        inlet = {self.tree.root.index: self.tree.root.flow_mL_per_min / 60.0}
        for b in self.tree.branches:
            remaining = inlet[b.index]
            n = int(self.n_cells[b.index])
            by_edge: dict[int, list[int]] = {}
            for c in b.children:
                by_edge.setdefault(self._attach_edge[c], []).append(c)
            for e in sorted(by_edge):
                kids = by_edge[e]
                want = np.array([self.tree.branches[c].flow_mL_per_min / 60.0 for c in kids])
                if e >= n:  # at the end: the children share everything that arrives
                    share = want / want.sum() if want.sum() > 0 else np.full(len(kids), 1.0 / len(kids))
                    got = remaining * share
                else:
                    got = want * min(1.0, remaining / want.sum()) if want.sum() > 0 else want
                for c, q in zip(kids, got, strict=True):
                    inlet[c] = float(q)
                remaining -= float(got.sum())
        return inlet

    def _sample_to_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """For every global centreline sample, the two cells whose mean is its concentration."""
        left, right = [], []
        for b in self.tree.branches:
            n = int(self.n_cells[b.index])
            first = int(self.cell_first[b.index])
            i = np.arange(n + 1)
            left.append(first + np.clip(i - 1, 0, n - 1))
            right.append(first + np.clip(i, 0, n - 1))
        return np.concatenate(left), np.concatenate(right)

    # --- queries -------------------------------------------------------------------------------------------------
    def total_iodine_mg(self) -> float:
        """Iodine in the tree now (mg)."""
        return float(np.dot(self.concentration, self.volume_mL))

    def sample_concentration(self) -> np.ndarray:
        """Concentration (mgI/mL) at every centreline sample of the tree (the renderer's input), float32."""
        left, right = self._sample_cells
        return (0.5 * (self.concentration[left] + self.concentration[right])).astype(np.float32)

    def concentration_at(self, branch: str, s_mm: float) -> float:
        """Concentration (mgI/mL) in the cell containing arc length ``s_mm`` of ``branch``."""
        return float(self.concentration_along(branch, np.array([s_mm]))[0])

    def concentration_along(self, branch: str, s_mm: np.ndarray) -> np.ndarray:
        """:meth:`concentration_at` for many arc lengths of one branch at once."""
        b = self.tree[branch]
        cells = np.searchsorted(b.s_mm, s_mm, side="right") - 1
        np.clip(cells, 0, self.n_cells[b.index] - 1, out=cells)
        return self.concentration[self.cell_first[b.index] + cells]

    def flow_mL_per_s(self, branch: str, s_mm: float) -> float:
        """Blood flow (mL/s) at ``s_mm`` of ``branch`` without any injection."""
        b = self.tree[branch]
        edge = int(np.argmin(np.abs(b.s_mm - s_mm)))
        return self._flow_after_edge(b.index, edge)

    def _flow_after_edge(self, branch: int, edge: int) -> float:
        q = self._inlet_flow[branch]
        for c in self.tree.branches[branch].children:
            if self._attach_edge[c] <= edge and self._attach_edge[c] < self.n_cells[branch]:
                q -= self._inlet_flow[c]
        return max(q, 0.0)

    # --- control --------------------------------------------------------------------------------------------------
    def set_injection(self, injection: Injection | None) -> None:
        """Start, change or (None, or a zero rate) stop the injection."""
        if injection is not None and injection.rate_mL_per_s <= 0.0:
            injection = None
        self.injection = injection

    def fill(self, concentration_mg_per_mL: float) -> None:
        """Fill every vessel with contrast at one concentration (previews, tests)."""
        self.concentration[:] = concentration_mg_per_mL

    def clear(self) -> None:
        self.concentration[:] = 0.0

    # --- step -----------------------------------------------------------------------------------------------------
    def step(self, dt_s: float) -> None:
        """Advance the iodine by ``dt_s`` seconds: inject, advect, split, reflux, wash out."""
        inj = self.injection
        if inj is None and not np.any(self.concentration > 0.0):
            return
        inj_branch, inj_edge, kappa = -1, -1, 1.0
        if inj is not None:
            b = self.tree[inj.branch]
            inj_branch = b.index
            inj_edge = int(np.clip(np.argmin(np.abs(b.s_mm - inj.s_mm)), 0, self.n_cells[b.index] - 1))
            q0 = max(self._flow_after_edge(inj_branch, inj_edge), MIN_FLOW_ML_PER_S)
            kappa = 1.0 + inj.rate_mL_per_s / q0
        segments = self._segments(inj_branch, inj_edge)
        downstream = self._downstream_mask(inj_branch, inj_edge) if inj is not None else None

        # Outflow profiles waiting at each (branch, edge): (tau knots, cumulative mass, flow that carried it).
        waiting: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, float]] = {}
        new_conc = self.concentration.copy()
        for seg in segments:
            flow = seg.flow * (kappa if downstream is not None and downstream[seg.branch, seg.edge0] else 1.0)
            dphi = flow * dt_s
            tau, mass = self._inflow(seg, flow, dt_s, waiting, inj, inj_branch, inj_edge, kappa)
            out_tau, out_mass, cells = _advance(
                self.concentration[seg.c0 : seg.c1], self.volume_mL[seg.c0 : seg.c1], tau, mass, dphi
            )
            new_conc[seg.c0 : seg.c1] = cells
            waiting[(seg.branch, seg.edge1)] = (out_tau, out_mass, flow)
        self.concentration = new_conc
        # Whatever reached a branch end and was not taken by children has left the tree.
        for b in self.tree.branches:
            end = (b.index, int(self.n_cells[b.index]))
            if end in waiting:
                _, mass, flow = waiting[end]
                taken = sum(self._inlet_flow[c] for c in b.children if self._attach_edge[c] >= end[1])
                if downstream is not None and downstream[b.index, end[1] - 1]:
                    taken *= kappa
                frac_left = 1.0 - (taken / flow if flow > 0 else 1.0)
                self.washed_out_mg += float(mass[-1]) * max(frac_left, 0.0)
        if inj is not None:
            self.injected_mg += inj.rate_mL_per_s * inj.concentration_mg_per_mL * dt_s
            self.injected_mL += inj.rate_mL_per_s * dt_s
            q0 = max(self._flow_after_edge(inj_branch, inj_edge), MIN_FLOW_ML_PER_S)
            excess = max(inj.rate_mL_per_s - q0, 0.0)
            diameter = 2.0 * float(self.tree.branches[inj_branch].radii_mm[inj_edge])
            length = max(min(REFLUX_MM_PER_ML_PER_S * excess, MAX_REFLUX_MM), JET_MIXING_DIAMETERS * diameter)
            exchange = excess + JET_EXCHANGE_FRACTION * inj.rate_mL_per_s
            fresh = (q0 + inj.rate_mL_per_s) * dt_s
            self._reflux(inj_branch, inj_edge, exchange * dt_s, length, fresh)

    def _inflow(self, seg, flow, dt_s, waiting, inj, inj_branch, inj_edge, kappa):
        """Cumulative-mass profile (tau, mass) of what enters ``seg`` during the step."""
        tau, mass = np.array([0.0, 1.0]), np.array([0.0, 0.0])
        b = self.tree.branches[seg.branch]
        if seg.edge0 == 0:
            if b.parent is not None:
                key = (b.parent, self._attach_edge[b.index])
                if key in waiting:
                    t_up, m_up, q_up = waiting[key]
                    share = flow / q_up if q_up > 0 else 0.0
                    tau, mass = t_up, m_up * share
        else:
            key = (seg.branch, seg.edge0)
            if key in waiting:
                t_up, m_up, q_up = waiting[key]
                own = flow if not (seg.branch == inj_branch and seg.edge0 == inj_edge) else flow / kappa
                share = own / q_up if q_up > 0 else 0.0
                tau, mass = t_up, m_up * share
        if seg.branch == inj_branch and seg.edge0 == inj_edge:
            injected = inj.rate_mL_per_s * inj.concentration_mg_per_mL * dt_s
            mass = mass + injected * tau
        return tau, mass

    def _segments(self, inj_branch: int, inj_edge: int) -> list[_Segment]:
        key = (inj_branch, inj_edge)
        if key == self._plan_key:
            return self._plan
        segments = []
        for b in self.tree.branches:
            n = int(self.n_cells[b.index])
            cuts = {0, n}
            cuts |= {self._attach_edge[c] for c in b.children if 0 < self._attach_edge[c] < n}
            if b.index == inj_branch:
                cuts.add(inj_edge)
            cuts = sorted(cuts)
            first = int(self.cell_first[b.index])
            for e0, e1 in itertools.pairwise(cuts):
                segments.append(_Segment(b.index, e0, e1, first + e0, first + e1, self._flow_after_edge(b.index, e0)))
        self._plan_key, self._plan = key, segments
        return segments

    def _downstream_mask(self, inj_branch: int, inj_edge: int) -> np.ndarray:
        """``mask[branch, edge]``: the cell starting at ``edge`` lies downstream of the injection point."""
        width = int(self.n_cells.max()) + 1
        mask = np.zeros((len(self.tree.branches), width), dtype=bool)
        mask[inj_branch, inj_edge:] = True
        for b in self.tree.branches:  # parents come before children
            if (
                b.parent is not None
                and mask[b.parent, min(self._attach_edge[b.index], width - 1)]
                and (b.parent != inj_branch or self._attach_edge[b.index] > inj_edge)
            ):
                mask[b.index, :] = True
        return mask

    def _reflux(self, branch: int, edge: int, volume_mL: float, length_mm: float, fresh_mL: float) -> None:
        """Exchange ``volume_mL`` between the fluid just injected (the cells downstream of the tip holding the
        last ``fresh_mL``) and the lumen up to ``length_mm`` upstream of the tip. Mixing only: no iodine is made
        or lost, and no concentration leaves the range of the two regions'."""
        zone = self._upstream_cells(branch, edge, length_mm)
        if len(zone) == 0:
            return
        first = int(self.cell_first[branch])
        last = first + int(self.n_cells[branch])
        cumulative = np.cumsum(self.volume_mL[first + edge : last])
        count = int(np.searchsorted(cumulative, fresh_mL)) + 1
        tip = np.arange(first + edge, min(first + edge + count, last))
        tip_volume = float(self.volume_mL[tip].sum())
        zone_volume = float(self.volume_mL[zone].sum())
        x = min(volume_mL, 0.5 * tip_volume, 0.5 * zone_volume)
        if x <= 0:
            return
        zone_share = self.volume_mL[zone] / zone_volume  # each cell exchanges x * its share of its region
        tip_share = self.volume_mL[tip] / tip_volume
        up = float(np.dot(self.concentration[tip], tip_share)) * x  # iodine carried upstream
        down = float(np.dot(self.concentration[zone], zone_share)) * x  # iodine carried back
        self.concentration[zone] += (up * zone_share - self.concentration[zone] * x * zone_share) / self.volume_mL[zone]
        self.concentration[tip] += (down * tip_share - self.concentration[tip] * x * tip_share) / self.volume_mL[tip]

    def _upstream_cells(self, branch: int, edge: int, length_mm: float) -> np.ndarray:
        """Global cell indices within ``length_mm`` upstream of ``edge`` on ``branch``, climbing into parents."""
        cells: list[int] = []
        remaining = length_mm
        spacing = self.tree.spacing_mm
        b, e = branch, edge
        while remaining > 0:
            take = min(int(np.ceil(remaining / spacing)), e)
            first = int(self.cell_first[b])
            cells.extend(range(first + e - 1, first + e - 1 - take, -1))
            remaining -= take * spacing
            parent = self.tree.branches[b].parent
            if parent is None or remaining <= 0:
                break
            b, e = parent, min(self._attach_edge[b], int(self.n_cells[parent]))
        return np.array(cells, dtype=int)

    # --- state ----------------------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Everything that changes, as arrays (for hashing and snapshots)."""
        return {
            "contrast_concentration": self.concentration.copy(),
            "contrast_totals": np.array([self.injected_mg, self.washed_out_mg, self.injected_mL]),
        }


def _advance(
    conc: np.ndarray, vol: np.ndarray, in_tau: np.ndarray, in_mass: np.ndarray, dphi: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shift a run of cells by ``dphi`` mL of volume, filling from the inflow profile.

    The extended coordinate y runs over [-dphi, 0] (what enters this step, the first to enter nearest 0) and
    [0, V] (the cells). Returns the outflow profile (tau, cumulative mass) and the cells' new concentrations.
    """
    edges = np.concatenate([[0.0], np.cumsum(vol)])
    total = edges[-1]
    if dphi <= 0.0:
        return np.array([0.0, 1.0]), np.array([0.0, 0.0]), conc.copy()
    cum = np.concatenate([[0.0], np.cumsum(conc * vol)])
    y_in = (in_tau[:-1] - 1.0) * dphi
    y = np.concatenate([y_in, edges])
    m = np.concatenate([in_mass[:-1] - in_mass[-1], cum])
    new_cum = np.interp(edges - dphi, y, m)
    cells = np.diff(new_cum) / vol
    lo = total - dphi
    inner = y[(y > lo) & (y < total)]
    y_out = np.concatenate([[lo], inner, [total]])
    m_out = np.interp(y_out, y, m)
    m_out -= m_out[0]
    tau = (y_out - lo) / dphi
    return tau, m_out, np.maximum(cells, 0.0)
