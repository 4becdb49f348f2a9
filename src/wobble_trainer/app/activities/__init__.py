"""Activities the menu offers: hold challenges, balance games, seated ankle exercises.

Importing this package registers every activity in :data:`wobble_trainer.app.scene.ACTIVITIES`,
in the order the menu shows them.
"""

from wobble_trainer.app.activities import (  # noqa: F401  (each module registers itself)
    alphabet,
    ankle_circles,
    circles,
    hold,
    marbles,
    reach,
    river,
)

MENU_ORDER = ("hold", "marbles", "reach", "river", "circles", "alphabet", "ankle_circles")
"""How the activity menu lists them: challenges, games, then the seated exercises."""
