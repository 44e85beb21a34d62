"""What the user writes: the scenario schema (:mod:`.schema`), preset files and ``extends``
(:mod:`.presets`), loading with named overrides (:mod:`.loading`) and the one translator of
validation errors into field-named messages (:mod:`.errors`)."""
