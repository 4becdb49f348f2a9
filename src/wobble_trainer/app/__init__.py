"""The trainer app: a pygame-ce display of scenes (menus, activities, results) run hands-free.

Data flows one way: the sampler process fills a ring of samples, :class:`~wobble_trainer.tilt.
stream.TiltStream` turns them into board angles, and each scene gets those angles and a
:class:`~wobble_trainer.feedback.base.Feedback` — never a bus or a pin.
"""
