"""``gpuplan serve``: the JSON API (:mod:`~gpuplan.web.api`), plan and simulate jobs
(:mod:`~gpuplan.web.jobs`), server-rendered pages (:mod:`~gpuplan.web.pages`), safe scenario
input (:mod:`~gpuplan.web.scenario_input`) and request guards (:mod:`~gpuplan.web.security`),
wired by :func:`gpuplan.web.app.create_app`. See docs/web.md."""
