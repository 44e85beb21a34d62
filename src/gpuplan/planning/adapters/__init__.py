"""Adapters: the only planning code that reads catalogs and calls estimators. They turn a
:class:`~gpuplan.scenario.schema.Scenario` into the plain tables of
:mod:`gpuplan.planning.problem` (:func:`.tables.build_problem`)."""
