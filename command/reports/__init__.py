"""reports: figures read from the event log and the records. It owns the statistics by category, region, department
and period (stats), the ledger export (ledger) and what wall displays and consoles read besides the incident API
(screen_board, screen, screen_areas), hotspots, assessment (assessment, its indices and versioned schemes), the
published 通报 reports (published, their figures and PDF/XLSX rendering), worker track replay and base maps. It may
import intake, assign, orders, deadlines, core and geo (not admin or realtime, its siblings)."""
