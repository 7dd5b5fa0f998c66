"""command/: the command-centre core, one package per domain (docs/architecture.md is the map).

Layers, each importing only those below it (import-linter checks it: `lint-imports`, contract "command-layers"):
cli → {demo, ops} → {reports, admin, realtime} → intake → assign → orders → deadlines → core. Packages on one layer
(in braces) do not import each other. command/ may import geo/, dispatch/ and pgnative; never web/."""
