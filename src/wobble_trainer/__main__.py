from wobble_trainer.cli import main

raise SystemExit(main())
