"""MAC-Flow: a flow-matching teacher of the joint behaviour, distilled into
one-step decentralized students guided by per-agent critics under IGM.

One update trains everything with one Adam optimizer (as the official code):

    loss = critic_TD + flow_BC + alpha * distill + Q_term

- critic_TD: per-agent ensemble Q_i, additive mixing over alive agents (mean for
  continuous, sum for discrete), y = r + gamma (1 - terminated_t) Qbar'(o', a')
  with a' from the student on o'; Polyak target.
- flow_BC: the teacher regresses the clean action a along x_tau (``flow_target="x1"``;
  the paper's velocity a - x0 is an option; discrete actions may use ``"logits"``: x1 as the
  softmax of the field's logits, fitted by cross-entropy).
- distill: student(o_i, z) matches the teacher's K-step Euler sample from the
  SAME noise z (discrete: cross-entropy to the teacher's masked argmax).
- Q_term: -lambda * mixed Q(o, student action), critic frozen,
  lambda = stopgrad(1 / mean |mixed Q|). Discrete: the expected Q under the
  student's masked softmax (the official code's argmax carries no gradient).

Options beyond the official code: ``teacher="joint"`` (default: attention across
agents, models the joint action) or ``"per_agent"`` (as coded); ``noise="shared"``
(every student sees the joint noise z = [z_1..z_N], drawn from a seed the agents
agree on before the episode) or ``"private"`` (z_i, as in the paper).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import EMA_HELP, FLOW_TARGET_HELP, FLOW_TARGETS, Algorithm, check_choice, check_ema, check_flow_target, ens_agg, flow_matching_loss, masked_mean, mix, opt, sanitize_avail
from .batch import Batch
from .entity import rows
from .nets import Critic, Student, euler, make_field, masked_argmax, masked_logits, one_hot


@dataclass(frozen=True)
class MACFlowConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of teacher, student and critic (presets set them)")
    lr: float = opt(1e-3, "Adam learning rate (one optimizer for every part; peak of the cosine schedule)")
    teacher_lr: float | None = opt(None, "learning rate of the flow teacher (a parameter group of the same "
                                         "optimizer, same schedule; flowbc's teacher learns fastest at 3e-3); None: lr")
    student_lr: float | None = opt(None, "learning rate of the one-step students (a parameter group of the same "
                                         "optimizer, same schedule); None: lr. They chase a moving teacher: on cover "
                                         "3e-3 distils its plans where 1e-3 lags (benchmarks/quality.md)")
    gamma: float | None = opt(None, "discount; None: matched to the dataset's episodes by the trainer "
                                    "(1 - 1/mean length, in [0.9, 0.995]), else 0.995 continuous / 0.99 discrete")
    n_step: int = opt(1, "critic targets: return of up to n steps from the data (stopping at the episode's end)")
    target_noise: float | None = opt(None, "scale of the noise z the students see when they choose the critic's "
                                           "next actions a' (TD targets): 1, N(0, 1) draws (the learned joint "
                                           "behaviour); 0, the centre z = 0 (what a team plays by default). None: 0 "
                                           "when centre_fraction = 1 (the students then learn the centre only, and "
                                           "their output for drawn noises is untrained), else 1")
    tau: float = opt(0.005, "Polyak rate of the target critic")
    alpha: float | None = opt(None, "distillation weight against the normalised Q term; None = 30 continuous "
                                    "(measured on spread expert; the paper's 1.0 lets Q dominate), 3.0 discrete. "
                                    "On data that is mostly noise the Q term should be in charge: alpha=0.03 with "
                                    "lr=0.003 scores 92 on spread medium, 78 on medium-replay, 103.5 on 3m medium, "
                                    "five seeds (benchmarks/quality.md, sessions 25-26); never on noiseless expert "
                                    "data (spread expert: 8)")
    flow_steps: int = opt(10, "Euler steps K of the teacher for distillation targets")
    teacher: str = opt("joint", "'joint': transformer over agent tokens; 'per_agent': shared MLP (official code)")
    noise: str = opt("shared", "'shared': students see the joint noise z (agreed seed); 'private': z_i (paper)")
    q_agg: str = opt("mean", "target ensemble aggregation: 'mean' or 'min'")
    normalize_q: bool = opt(True, "scale the Q term by stopgrad(1 / mean |mixed Q|)")
    ensemble: int = opt(2, "critic heads per agent")
    critic_layer_norm: bool = opt(True, "LayerNorm in the critics")
    actor_layer_norm: bool = opt(False, "LayerNorm in the teacher MLP and the student")
    actor_batch: int = opt(256, "rows of the batch for the student's terms (distillation to the teacher's K-step "
                                "sample, Q); 0: all. The flow and critic terms use the whole batch")
    centre_fraction: float = opt(0.0, "share of the student's distillation rows whose noise is the centre z = 0 "
                                      "(the rest N(0, 1) draws), so the action a team plays by default is "
                                      "distilled rather than interpolated between draws. 0 (default): measured "
                                      "neutral on 2s3z medium (benchmarks/quality.md, session 8)")
    centre_target: str = opt("centre", "what the centre rows (centre_fraction) learn: 'centre', the teacher's "
                                       "sample from z = 0 (its one path from the centre); 'draw', the teacher's "
                                       "sample from the row's N(0, 1) draw, so the student's centre fits the "
                                       "teacher's marginal over noises: its most likely action (discrete, "
                                       "cross-entropy) or its mean (continuous, MSE); 'data', the row's own "
                                       "recorded action: the centre fits the data's marginal as BC does, "
                                       "without the teacher's fitting error (the other rows still distil the "
                                       "teacher's joint samples)")
    centre_loss: str = opt("mse", "continuous actions with centre_target='data': the centre rows' regression "
                                  "loss, 'mse' (the data's mean action, as BC's default) or 'l1' (its "
                                  "per-dimension median: on epsilon-random data the expert's own action, as bc "
                                  "loss=l1). Discrete centres use cross-entropy either way")
    centre_filter: str = opt("none", "centre rows with centre_target='data': 'none' learns every recorded action; "
                                     "'advantage' only those the agent's own critic ranks above its student's "
                                     "current centre action, Q_i(o_i, a_data) > Q_i(o_i, mu_i(o_i, 0)) (CRR's "
                                     "binary filter: the critic steers the students by choosing among the data's "
                                     "actions, not by its action gradient, so they stay on the data's support); "
                                     "'safe': only where the recorded action is better under every critic head "
                                     "than the centre action under any head (min_e Q_e(a_data) > max_e "
                                     "Q_e(mu)): a gain larger than the heads' disagreement")
    filter_floor: float = opt(0.0, "weight of the recorded actions centre_filter drops (kept ones weigh 1): "
                                   "above 0 every row still pulls the centre toward its data a little, so a "
                                   "state whose rows are all dropped does not drift off the data's support. "
                                   "0 (default): dropped rows are not learned")
    q_weight: float = opt(1.0, "weight of the Q term (0: pure distillation of the behaviour)")
    flow_weight: float = opt(1.0, "weight of the teacher's flow-matching loss. 0 does not train the teacher at all "
                                  "(its loss is not computed): allowed only where nothing reads the teacher, i.e. "
                                  "centre_fraction=1 with centre_target='data', where the students learn the "
                                  "recorded actions and the critics; the update then costs what students and "
                                  "critics cost and the students' weights are those of flow_weight=1")
    pick_weight: float = opt(0.0, "weight of the pick term: each student's noise centre (z = 0, what a team plays "
                                  "by default) regresses to the action its own critic Q_i(o_i, a) ranks best "
                                  "among the student's own samples on pick_candidates noises (the centre and "
                                  "N(0, 1) draws); best-of-M learned into one forward. 0 (default): off")
    pick_candidates: int = opt(16, "noises the pick term ranks (with pick_weight > 0)")
    pick_rows: int = opt(64, "rows of the batch the pick term uses (the first ones; its M candidate passes cost "
                             "M times as much per row); 0: actor_batch")
    rank: str = opt("mean", "how the critic's ensemble heads rank candidate actions (the pick term and "
                            "exec_candidates): 'mean'; 'min' (pessimistic: an action some head doubts ranks "
                            "low); 'safe' (the centre scores its heads' max, the others their min: a candidate "
                            "replaces the centre only where every head prefers it)")
    flow_target: str = opt("x1", FLOW_TARGET_HELP)
    source_std: float = opt(1.0, "std of the teacher flow's source noise: it trains from x0 ~ N(0, this^2) and "
                                 "its sampler starts from this x the students' noise z (flowbc's default is 3)")
    ema: float = opt(0.0, EMA_HELP.replace("policy's", "students'"))
    exec_noise: float = opt(0.0, "execution only: scale of the noise z fed to the students (0, default: the "
                                 "deterministic centre, which drops the data's noise; 1: sample the learned joint "
                                 "behaviour, for multimodal tasks such as cover, with noise='shared')")
    exec_noise_hold: bool = opt(True, "execution only: keep the episode's noise z for all its steps (drawn once from "
                                      "the agreed per-episode seed) instead of a fresh draw each step, so the team "
                                      "keeps one joint plan")
    exec_candidates: int = opt(1, "execution only: each agent draws this many noises z (the first is the centre "
                                  "z = exec_noise * the draw; the others N(0, 1) draws from the agreed generator, "
                                  "held for the episode like the first under exec_noise_hold), runs its student "
                                  "on each and takes the action its own critic Q_i(o_i, a) ranks best "
                                  "(decentralized: under IGM the joint argmax is each agent's). 1 (default): one "
                                  "student forward")

    def __post_init__(self):
        check_choice(self, "teacher", ("joint", "per_agent"))
        check_choice(self, "noise", ("shared", "private"))
        check_choice(self, "q_agg", ("mean", "min"))
        check_choice(self, "rank", ("mean", "min", "safe"))
        check_choice(self, "flow_target", FLOW_TARGETS)
        check_choice(self, "centre_target", ("centre", "draw", "data"))
        check_choice(self, "centre_loss", ("mse", "l1"))
        check_choice(self, "centre_filter", ("none", "advantage", "safe"))
        check_ema(self)
        if self.centre_filter != "none" and (self.centre_target != "data" or self.centre_fraction == 0):
            raise ValueError("MACFlowConfig.centre_filter filters the recorded actions the centre rows learn: set "
                             "centre_target='data' and centre_fraction > 0 with it")
        if not 0 <= self.filter_floor < 1 or (self.filter_floor and self.centre_filter == "none"):
            raise ValueError(f"MACFlowConfig.filter_floor must be in [0, 1) and needs a centre_filter, got "
                             f"{self.filter_floor} with centre_filter={self.centre_filter!r}")
        if self.flow_steps < 1:
            raise ValueError("MACFlowConfig.flow_steps must be >= 1")
        if not self.source_std > 0:
            raise ValueError(f"MACFlowConfig.source_std must be > 0, got {self.source_std}")
        if not self.flow_weight >= 0:
            raise ValueError(f"MACFlowConfig.flow_weight must be >= 0, got {self.flow_weight}")
        if self.flow_weight == 0 and not (self.centre_fraction == 1 and self.centre_target == "data"):
            raise ValueError("MACFlowConfig.flow_weight=0 leaves the teacher untrained, but the students distil it "
                             f"(centre_fraction={self.centre_fraction}, centre_target={self.centre_target!r}): "
                             "set centre_fraction=1.0,centre_target=data with it, or keep flow_weight > 0")
        for name in ("teacher_lr", "student_lr"):
            v = getattr(self, name)
            if v is not None and not 0 < v < 1:
                raise ValueError(f"MACFlowConfig.{name} must be in (0, 1), got {v}")
        if not 1 <= self.exec_candidates <= 256:
            raise ValueError(f"MACFlowConfig.exec_candidates must be in [1, 256] (each one is a student and a "
                             f"critic pass), got {self.exec_candidates}")
        if not self.pick_weight >= 0:
            raise ValueError(f"MACFlowConfig.pick_weight must be >= 0, got {self.pick_weight}")
        if self.pick_rows < 0:
            raise ValueError(f"MACFlowConfig.pick_rows must be >= 0, got {self.pick_rows}")
        if not 2 <= self.pick_candidates <= 256:
            raise ValueError(f"MACFlowConfig.pick_candidates must be in [2, 256], got {self.pick_candidates}")
        if not 0 <= self.centre_fraction <= 1:
            raise ValueError(f"MACFlowConfig.centre_fraction must be in [0, 1], got {self.centre_fraction}")
        if self.target_noise is not None and not self.target_noise >= 0:
            raise ValueError(f"MACFlowConfig.target_noise must be >= 0 or None, got {self.target_noise}")
        if not self.exec_noise >= 0:
            raise ValueError(f"MACFlowConfig.exec_noise must be >= 0, got {self.exec_noise}")


def rank_scores(q: Tensor, how: str) -> Tensor:
    """Scores of M candidates from ensemble values ``q`` [E, M, ...] (candidate 0 is the centre)."""
    if how == "mean":
        return q.mean(0)
    low = q.min(0).values
    if how == "safe":
        low = torch.cat([q[:, :1].max(0).values, low[1:]])
    return low


def first_rows(mem, k: int):
    """The first ``k`` rows of a memory (nested tuples of tensors), still attached to the graph."""
    if isinstance(mem, (tuple, list)):
        return type(mem)(first_rows(m, k) for m in mem)
    return mem[:k]


class MACFlow(Algorithm):
    name = "macflow"
    Config = MACFlowConfig
    exec_fields = ("exec_noise", "exec_noise_hold", "exec_candidates", "rank")
    act_nets = ("student",)

    def build(self):
        s, c = self.spec, self.config
        check_flow_target(s, c.flow_target)
        nz = s.action_dim * (s.n_agents if c.noise == "shared" else 1)
        critic = Critic(s, c.hidden, c.ensemble, c.critic_layer_norm)
        return {
            "teacher": make_field(c.teacher, s, c.hidden, c.actor_layer_norm),
            "student": Student(s, nz, s.action_dim, c.hidden, c.actor_layer_norm),
            "critic": critic,
            "target_critic": copy.deepcopy(critic),
        }

    def build_optimizers(self):
        """One Adam; the teacher and the students are parameter groups of their own when
        ``teacher_lr`` / ``student_lr`` are set (the rest at ``lr``)."""
        c = self.config
        if c.teacher_lr is None and c.student_lr is None:
            return super().build_optimizers()
        own = [(k, v) for k, v in (("teacher", c.teacher_lr), ("student", c.student_lr)) if v is not None]
        rest = [p for k in ("teacher", "student", "critic") if k not in dict(own) for p in self.nets[k].parameters()]
        groups = [{"params": list(self.nets[k].parameters()), "lr": v, "peak_lr": v} for k, v in own]
        groups.append({"params": rest, "lr": c.lr, "peak_lr": c.lr})
        return {"main": self.adam(groups)}

    @property
    def mix_how(self) -> str:
        return "sum" if self.spec.discrete else "mean"

    def next_noise(self, *shape: int) -> Tensor:
        """The noise of the students' next actions in TD targets (``target_noise``; always one draw of
        the training generator, so the random stream does not depend on it)."""
        c = self.config
        scale = c.target_noise if c.target_noise is not None else (0.0 if c.centre_fraction == 1 else 1.0)
        z = self.randn(*shape)
        return z if scale == 1 else z * scale

    def z_in(self, z: Tensor) -> Tensor:
        """Joint noise [..., N, A] -> each student's noise input: z_i, or all of z."""
        if self.config.noise == "private":
            return z
        n = z.shape[-2]
        return z.flatten(-2).unsqueeze(-2).expand(*z.shape[:-2], n, n * z.shape[-1])

    def _next_value(self, o_next: Tensor, out_next: Tensor, avail_next: Tensor | None, alive_next: Tensor) -> Tensor:
        """Mixed target-critic value at o' under the student's action ([B, T])."""
        c = self.config
        if self.spec.discrete:
            a = masked_argmax(out_next, avail_next)
            qn = self.nets["target_critic"](o_next)
            qn = qn.gather(-1, a.expand(qn.shape[0], *a.shape)[..., None])[..., 0]
        else:
            qn = self.nets["target_critic"](o_next, out_next.clamp(-1, 1))
        return mix(ens_agg(qn, c.q_agg), alive_next, self.mix_how)

    @torch.no_grad()
    def td_target(self, batch: Batch) -> Tensor:
        """y = r + gamma (1 - terminated) V'(o') for each step ([B, T]); for checks."""
        b = self.prepare(batch)
        o = self.with_id(b.obs[:, 1:])
        z = self.next_noise(b.B, b.T, self.spec.n_agents, self.spec.action_dim)
        out = self.nets["student"](o, self.z_in(z))
        avail = sanitize_avail(b.avail[:, 1:]) if self.spec.discrete else None
        v = self._next_value(o, out, avail, b.alive[:, 1:])
        return b.rewards + b.bootstrap_discount(self.config.gamma) * (1 - b.terminated) * v

    def losses(self, b: Batch):
        s, c = self.spec, self.config
        B, T, N, A = b.B, b.T, s.n_agents, s.action_dim
        nets = self.nets
        o = self.with_id(b.obs)  # [B, T+1, N, D+N]
        o_t, o_n = o[:, :-1], o[:, 1:]
        alive_t, alive_n = b.alive[:, :-1], b.alive[:, 1:]
        w = b.mask[..., None] * alive_t  # per-agent weights [B, T, N]
        avail = sanitize_avail(b.avail) if s.discrete else None
        avail_t = avail[:, :-1] if s.discrete else None
        # The student's terms (distillation, Q) use the first ``actor_batch`` rows: the teacher's
        # K-step sampler on them is the update's largest cost. The flow and TD terms use all rows.
        k = B if c.actor_batch <= 0 else min(B, c.actor_batch)

        # Critic: TD on the mixed Q, bootstrapping with the flag of the step taken; next actions
        # from the students (no gradient).
        with torch.no_grad():
            out_n = nets["student"](o_n, self.z_in(self.next_noise(B, T, N, A)))
            v_next = self._next_value(o_n, out_n, avail[:, 1:] if s.discrete else None, alive_n)
            y = b.rewards + b.bootstrap_discount(c.gamma) * (1 - b.terminated) * v_next
        if s.discrete:
            q_all = nets["critic"](o_t)  # [E, B, T, N, n]
            q_data = q_all.gather(-1, b.actions.expand(q_all.shape[0], *b.actions.shape)[..., None])[..., 0]
        else:
            mem_c = nets["critic"].memory(o_t)  # the entity encoding, shared with the Q term below
            q_data = nets["critic"](o_t, b.actions, mem=mem_c)  # [E, B, T, N]
        q_mix = mix(q_data, alive_t, self.mix_how)  # [E, B, T]
        critic_loss = masked_mean(((q_mix - y) ** 2).mean(0), b.mask)

        # Teacher: flow-matching BC of the (joint) action.
        x1 = one_hot(b.actions, A) if s.discrete else b.actions
        x0 = self.randn(B, T, N, A)
        if c.source_std != 1.0:
            x0 = x0 * c.source_std
        tau = self.rand(B, T, N if c.teacher == "per_agent" else 1, 1)
        if c.flow_weight:
            mem_t = nets["teacher"].encode(o_t)  # shared with the Euler sampler below
            flow_loss = flow_matching_loss(nets["teacher"], o_t, x1, x0, tau, w, c.flow_target, mem=mem_t)
        else:  # nothing reads the teacher (checked in the config): its loss is not computed
            mem_t, flow_loss = None, x0.new_zeros(())

        # Distillation: the same noise z into the teacher's Euler sampler and the students.
        ok, wk, mk = o_t[:k], w[:k], b.mask[:k]
        z = zs = self.randn(k, T, N, A)
        n_centre = round(c.centre_fraction * k)
        if n_centre:  # these rows train the noise centre, what a team plays by default
            zs = torch.cat([z.new_zeros(n_centre, T, N, A), z[n_centre:]])
            if c.centre_target == "centre":  # the teacher's path from the centre (else: from the row's draw)
                z = zs
        if c.source_std != 1.0:  # the teacher's start; the students read z itself
            z = z * c.source_std
        mem_s = nets["student"].memory(ok)  # shared with the pick term's candidates and centre
        mu = nets["student"](ok, self.z_in(zs), mem=mem_s)
        if n_centre and c.centre_target == "data":
            # The centre rows learn the recorded action itself; the teacher's K-step sampler runs only
            # on the rows that distil it (none at centre_fraction = 1: the update's largest cost saved).
            drawn = euler(nets["teacher"], ok[n_centre:], z[n_centre:], c.flow_steps, c.flow_target,
                          mem=rows(mem_t, k, n_centre)) if n_centre < k else x1[:0]
            target = torch.cat([x1[:n_centre], drawn])
        else:
            target = euler(nets["teacher"], ok, z, c.flow_steps, c.flow_target, mem=rows(mem_t, k))
        if s.discrete:
            av = avail_t[:k]
            logits = masked_logits(mu, av)
            label = masked_argmax(target, av)
            per_row = F.cross_entropy(logits.flatten(0, -2), label.flatten(), reduction="none").view(label.shape)
            pi = torch.softmax(logits, -1)
            q_pi = (pi * q_all[:, :k].detach().mean(0)).sum(-1)  # expected Q under the masked softmax
        else:
            err = mu - target.clamp(-1, 1)
            per_row = (err ** 2).mean(-1)
            if n_centre and c.centre_target == "data" and c.centre_loss == "l1":  # the data's median
                per_row = torch.cat([err[:n_centre].abs().mean(-1), per_row[n_centre:]])
            q_pi_heads = nets["critic"](ok, mu.clamp(-1, 1), frozen=True, mem=rows(mem_c, k))
            q_pi = q_pi_heads.mean(0)
        wd = wk  # the distillation rows' weights
        if c.centre_filter != "none":  # keep the recorded actions the agent's own critic prefers
            qd = q_data[:, :n_centre].detach()  # [E, n, T, N]
            if c.centre_filter == "advantage":
                better = qd.mean(0) > q_pi[:n_centre].detach()
            else:  # 'safe': by more than the heads disagree
                qp = ((pi[:n_centre].detach() * q_all[:, :n_centre].detach()).sum(-1) if s.discrete
                      else q_pi_heads[:, :n_centre].detach())
                better = qd.min(0).values > qp.max(0).values
            better = better.to(wk.dtype)
            keep = c.filter_floor + (1 - c.filter_floor) * better  # floor 0: the kept rows alone
            wd = wk * torch.cat([keep, keep.new_ones(k - n_centre, *keep.shape[1:])])
        distill = masked_mean(per_row, wd)
        q_pi_mix = mix(q_pi, alive_t[:k], self.mix_how)  # [k, T]
        lam = 1.0 / masked_mean(q_pi_mix.abs(), mk).detach().clamp_min(1e-8) if c.normalize_q else q_pi_mix.new_ones(())
        q_loss = -c.q_weight * lam * masked_mean(q_pi_mix, mk)

        total = critic_loss + c.flow_weight * flow_loss + c.alpha * distill + q_loss
        metrics = {
            "critic/loss": critic_loss,
            "critic/q_mean": masked_mean(q_mix.mean(0), b.mask),
            "critic/target_mean": masked_mean(y, b.mask),
            "actor/flow_loss": flow_loss,
            "actor/distill_loss": distill,
            "actor/q_loss": q_loss,
            "actor/q_mean": masked_mean(q_pi_mix, mk),
            "actor/lambda": lam,
        }
        if c.centre_filter != "none":
            metrics["actor/centre_kept"] = masked_mean(better, wk[:n_centre])
        if c.pick_weight > 0:
            r = k if c.pick_rows <= 0 else min(k, c.pick_rows)
            pick = self._pick_loss(ok[:r], wk[:r], first_rows(mem_s, r),
                                   rows(mem_c, r) if not s.discrete else None,
                                   q_all[:, :r].detach() if s.discrete else None,
                                   avail_t[:r] if s.discrete else None)
            total = total + c.pick_weight * pick
            metrics["actor/pick_loss"] = pick
        return total, metrics

    def _pick_loss(self, o: Tensor, w: Tensor, mem_s, mem_c, q_disc: Tensor | None, avail) -> Tensor:
        """The pick term (``pick_weight``): each agent's critic ranks its student's actions on M noises
        (the centre and M - 1 draws; own observation only, as ``exec_candidates`` does at execution)
        and the centre regresses to the best (MSE, or cross-entropy on the best index)."""
        c, s, nets = self.config, self.spec, self.nets
        m = c.pick_candidates
        k, T, N, A = o.shape[0], o.shape[1], s.n_agents, s.action_dim
        with torch.no_grad():
            zc = torch.cat([o.new_zeros(1, k, T, N, A), self.randn(m - 1, k, T, N, A)])
            out = nets["student"](o, self.z_in(zc), mem=rows(mem_s))  # [M, k, T, N, out]
            if s.discrete:
                a = masked_argmax(out, avail)  # [M, k, T, N]
                qd = q_disc.unsqueeze(1).expand(q_disc.shape[0], m, *q_disc.shape[1:])  # [E, M, k, T, N, n]
                q = rank_scores(qd.gather(-1, a.expand(qd.shape[0], *a.shape)[..., None])[..., 0], c.rank)
                best = a.gather(0, q.argmax(0)[None])[0]
            else:
                a = out.clamp(-1, 1)
                q = rank_scores(nets["critic"](o, a, mem=mem_c), c.rank)  # [M, k, T, N]
                best = a.gather(0, q.argmax(0)[None, ..., None].expand(1, *a.shape[1:]))[0]
        centre = nets["student"](o, self.z_in(o.new_zeros(k, T, N, A)), mem=mem_s)
        if s.discrete:
            ce = F.cross_entropy(masked_logits(centre, avail).flatten(0, -2), best.flatten(), reduction="none")
            return masked_mean(ce.view(best.shape), w)
        return masked_mean(((centre - best) ** 2).mean(-1), w)

    def after_step(self) -> None:
        self.polyak("critic", "target_critic", self.config.tau)

    @torch.inference_mode()
    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        """Each agent runs its own student once: a_i = mu(o_i, z_i) (private) or
        mu(o_i, z) with the joint noise z every agent draws from the agreed
        ``generator`` (shared); no other agent's observation is used."""
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        B, N, A = obs.shape[0], self.spec.n_agents, self.spec.action_dim
        m = self.config.exec_candidates
        state = generator.get_state() if self.config.exec_noise_hold else None
        z = torch.randn((m, B, N, A), generator=generator, device=self.device)
        if state is not None:  # the same draws at every step until the episode's seed is set again
            generator.set_state(state)
        if self.config.exec_noise != 1.0:
            z[0] = z[0] * self.config.exec_noise
        o = self.with_id(obs)
        if m > 1:
            return self._best_of(o, z, avail)
        out = self.act_module("student")(o, self.z_in(z[0]))
        return masked_argmax(out, avail) if self.spec.discrete else out.clamp(-1, 1)

    def _best_of(self, o: Tensor, z: Tensor, avail) -> Tensor:
        """A student action per noise of ``z`` ([M, B, N, A]) for each agent; each agent keeps the
        one its critic's mean Q_i(o_i, a) ranks best (its own observation only)."""
        m = z.shape[0]
        oo = o.expand(m, *o.shape)
        out = self.act_module("student")(oo, self.z_in(z))
        if self.spec.discrete:
            av = None if avail is None else avail.expand(m, *avail.shape)
            a = masked_argmax(out, av)  # [M, B, N]
            qa = self.nets["critic"](oo)  # [E, M, B, N, n]
            q = rank_scores(qa.gather(-1, a.expand(qa.shape[0], *a.shape)[..., None])[..., 0], self.config.rank)
            return a.gather(0, q.argmax(0)[None])[0]
        a = out.clamp(-1, 1)
        q = rank_scores(self.nets["critic"](oo, a), self.config.rank)  # [M, B, N]
        best = q.argmax(0)  # [B, N]
        return a.gather(0, best[None, ..., None].expand(1, *a.shape[1:]))[0]
