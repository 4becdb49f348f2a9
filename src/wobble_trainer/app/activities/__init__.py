"""Activities the menu offers: hold challenges, balance games, seated ankle exercises.

Importing this package registers every activity in :data:`wobble_trainer.app.scene.ACTIVITIES`,
in the order the menu shows them.
"""

from wobble_trainer.app.activities import (  # noqa: F401  (each module registers itself)
    circles,
    hold,
    river,
)
