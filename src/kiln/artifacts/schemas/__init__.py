"""dbt's published artifact schemas, one module per schema version.

Only `kiln.artifacts` imports these modules; the rest of Kiln goes through the unversioned
API there, so a new schema version changes one import instead of every caller.
"""
