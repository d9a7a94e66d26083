"""ALBEF's momentum teacher and ITC queues, as a mixin of :class:`ALBEFGrounder`.

The teacher is a frozen copy of the student's unimodal encoders and projections, updated by
an exponential moving average after every step; the queues hold the teacher's last
``queue_size`` normalised image and text features and their image ids, as buffers (saved in
the checkpoint and restored on resume).
"""

import copy

import torch
import torch.nn.functional as F
from torch import Tensor

from .utils import gather_without_grad

# (student, teacher) module names
TEACHER_PAIRS = (
    ('image_encoder', 'image_encoder_m'),
    ('vision_proj', 'vision_proj_m'),
    ('text_encoder', 'text_encoder_m'),
    ('text_proj', 'text_proj_m'),
)


class MomentumTeacherMixin:
    """Builds, updates and reads the teacher and the queues of an ``nn.Module`` that has
    the student modules of :data:`TEACHER_PAIRS` and a ``_pool_text(embeds, text)``."""

    def _build_teacher(self, decay: float, *, fast: bool = False) -> None:
        """Frozen copies of the student modules (their names with ``_m``).

        ``fast``: the image feature through the class token's last block alone and the
        update as one ``lerp`` pass (equal up to float rounding; see ``ALBEFGrounder``).
        """
        self.teacher_pairs = list(TEACHER_PAIRS)
        for student, teacher in self.teacher_pairs:
            module = copy.deepcopy(getattr(self, student))
            module.requires_grad_(False)
            setattr(self, teacher, module)
        self.teacher_decay = decay
        self.fast_teacher = fast

    def _build_queues(self, embed_dim: int, queue_size: int) -> None:
        """Random unit features (E, Q) whose image id, -1, matches nothing; pointer 0."""
        self.queue_size = queue_size
        self.register_buffer('image_queue', F.normalize(torch.randn(embed_dim, queue_size), dim=0))
        self.register_buffer('text_queue', F.normalize(torch.randn(embed_dim, queue_size), dim=0))
        # image ids of the queued pairs; -1 = an initial random entry that matches nothing
        self.register_buffer('idx_queue', torch.full((1, queue_size), -1, dtype=torch.long))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))

    @torch.no_grad()
    def _update_teacher(self) -> None:
        d = self.teacher_decay
        students, teachers = [], []
        for student, teacher in self.teacher_pairs:
            students += [p.detach() for p in getattr(self, student).parameters()]
            teachers += list(getattr(self, teacher).parameters())
        if not teachers:
            return
        if self.fast_teacher:
            # teacher + (1 - d) * (student - teacher): one multi-tensor pass over the weights
            torch._foreach_lerp_(teachers, students, 1 - d)
            return
        # one multi-tensor call each instead of two per parameter (the same arithmetic)
        torch._foreach_mul_(teachers, d)
        torch._foreach_add_(teachers, students, alpha=1 - d)

    @torch.no_grad()
    def _enqueue(self, image_feat: Tensor, text_feat: Tensor, idx: Tensor) -> None:
        image_feat, text_feat, idx = (gather_without_grad(t) for t in (image_feat, text_feat, idx))
        num = image_feat.shape[0]
        slots = (int(self.queue_ptr) + torch.arange(num, device=idx.device)) % self.queue_size
        # the queues stay in their own dtype (float32) when the step runs under autocast
        self.image_queue[:, slots] = image_feat.T.to(self.image_queue.dtype)
        self.text_queue[:, slots] = text_feat.T.to(self.text_queue.dtype)
        self.idx_queue[0, slots] = idx
        self.queue_ptr[0] = (int(self.queue_ptr) + num) % self.queue_size

    def _queue_snapshot(self) -> dict:
        """The queues as they are before this step's enqueue (E, Q), (E, Q), (1, Q)."""
        return dict(
            image=self.image_queue.clone(), text=self.text_queue.clone(), idx=self.idx_queue.clone()
        )

    @torch.no_grad()
    def teacher_text_feat(self, text: dict) -> Tensor:
        """The momentum teacher's normalised ITC text feature (B, E)."""
        embeds = self.text_encoder_m(text['input_ids'], text['attention_mask'])
        return F.normalize(self.text_proj_m(self._pool_text(embeds, text)), dim=-1)

    @torch.no_grad()
    def teacher_image_feat(self, inputs: Tensor) -> Tensor:
        """The momentum teacher's normalised ITC image feature (B, E)."""
        encoder = self.image_encoder_m
        if self.fast_teacher and hasattr(encoder, 'forward_class_token'):
            # without the other tokens' outputs of the last block
            cls = encoder.forward_class_token(inputs)  # (B, C)
        else:
            cls = encoder(inputs)[:, 0]
        return F.normalize(self.vision_proj_m(cls), dim=-1)
