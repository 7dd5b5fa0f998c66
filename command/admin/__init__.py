"""admin: the administration of accounts and of what administrators edit. It owns user accounts (users), whether a
token still stands for its account (accounts), changing an account (account_admin), password login with its audit
(login) and throttle (login_throttle), and what administrators edit: accounts and their sheet import (people_admin,
account_import), departments, categories and routing rules (reference_admin), limits and the calendar
(limits_admin), region files (region_admin), the service catalogue (catalogue), the audit log (audit), a region
admin's scope (admin_scope), notices and report notices, the contact book and duty roster. core.security signs and
verifies tokens; this package decides who they stand for. It may import the domain packages below it, core, geo and
dispatch (not reports or realtime, its siblings)."""
