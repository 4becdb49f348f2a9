"""The board's side of the clinic hub: linking to it and syncing with it (standard library only,
so a board needs none of the hub's dependencies).

* :mod:`~wobble_trainer.sync.link` — the board's hub credentials in its state directory;
* :mod:`~wobble_trainer.sync.client` — HTTP(S) requests to the hub, with clear errors;
* :mod:`~wobble_trainer.sync.round` — one sync round: the outbox up, the hub's changes down;
* :mod:`~wobble_trainer.sync.background` — rounds in a child process while the app runs;
* :mod:`~wobble_trainer.sync.live` — the running session to the hub's live view;
* :mod:`~wobble_trainer.sync.cli` — ``wobble link`` and ``wobble sync``.
"""
