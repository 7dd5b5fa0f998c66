"""pgnative: SQL statements run straight on a SQLAlchemy session's asyncpg connection, in its transaction
(statements: `Native`, `Row`), and the ORM side of them (orm: rows a statement wrote attached to the session as if
loaded, plain column updates written without the unit of work). A library, not a domain: it knows no table of
gridcmd and imports only SQLAlchemy and asyncpg, so geo/ and command/ both use it and neither owns it."""
