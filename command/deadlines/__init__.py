"""deadlines: time limits and what happens when they pass. It owns the limits in working days (rules), the
deadlines of incidents and work orders (deadlines), the scheduler that fires reminders, overdue and supervision
(scheduler), manual supervision (supervision) and patrol tasks with their planned visits (patrol). It may import
core, geo and pgnative."""
