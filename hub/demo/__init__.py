"""Demo data: the four departments' legacy databases with known planted anomalies (`hub generate`).

`hub.demo.generate.generate` is the entry point; `hub.demo.legacy` holds the legacy table shapes and
`hub.demo.anomalies` documents how each cross-check rule is planted.
"""
