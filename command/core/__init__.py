"""core: what every part of command/ stands on. It owns the settings, the domain errors, the engine and session
factory (db), the tables (models), the incident and order states with their transition tables (lifecycle) and the one
way to move between them (moves), the append-only event log (events), the one shape of an incident and an order
(summaries), cached reference data and routing rules (refdata, routing), tokens and principals (security), region and
department scope (scoping), attention reasons, time (clock), post-commit hooks (txhooks), Idempotency-Keys
(request_keys), the Redis client and outage detection. It may import geo/, dispatch/ and pgnative, never another
command/ package."""
