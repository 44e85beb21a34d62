"""Reports people read: plotly charts over the result objects, and the HTML report, Excel
workbook and CSV tables built from them.

* :mod:`~gpuplan.reporting.charts_plan`, :mod:`~gpuplan.reporting.charts_finance`,
  :mod:`~gpuplan.reporting.charts_compute`: pure figure builders (result in, figure out), shared
  by the report, the workbook and the web app;
* :mod:`~gpuplan.reporting.tables`: the report's tables as DataFrames (numbers stay numbers);
* :mod:`~gpuplan.reporting.build`: runs a scenario's plan and Monte Carlo into a :class:`Report`;
* :mod:`~gpuplan.reporting.html`, :mod:`~gpuplan.reporting.workbook`: the files.

Not to be confused with :mod:`gpuplan.report`, which checks the reference report's figures.
"""
