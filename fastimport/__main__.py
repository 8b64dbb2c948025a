from fastimport.cli import main

raise SystemExit(main())
