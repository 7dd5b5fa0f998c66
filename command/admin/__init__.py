"""admin: the administration of accounts and of what administrators edit. It owns user accounts (users),
whether a token still stands for its account (accounts), changing an account (account_admin), password login
with its audit (login) and throttle (login_throttle); the administration of notices and catalogues belongs here
too. core.security signs and verifies tokens; this package decides who they stand for. It may import the domain
packages below it, core, geo and dispatch (not reports or realtime, its siblings)."""
