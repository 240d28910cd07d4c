"""The register's domain: aggregates, their past-tense events, the policy and the rules.

Pure: nothing here imports the ledger, the projections, the CLI, a database driver,
SQLAlchemy, marshmallow or click. The clock is passed in; every broken rule is a named
`DomainError` from `domain.errors`.
"""
