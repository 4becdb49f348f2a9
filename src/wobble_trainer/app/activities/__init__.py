"""Activities the menu offers: hold challenges, balance games, seated ankle exercises.

Importing this package registers every activity in :data:`wobble_trainer.app.scene.ACTIVITIES`.
"""

from wobble_trainer.app.activities import hold  # noqa: F401  (registers)
