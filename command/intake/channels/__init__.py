"""channels: adapters between outside platforms and the one intake. They own the wire formats, signatures and
delivery of each platform: hotline platforms (hotline12345: work orders in, through a platform's mapping —
platform_mapping: field tables in and out, the 12345 format built in; hotline_sign: HMAC both ways; outbox: status
reports out, in order, with backoff) and Open311 GeoReport v2 (open311: requests in; open311_services: categories
as services; open311_reads: requests out; open311_clients: api_keys and their rate limits). Adapters translate,
never decide: they call command.intake.intake and the deadline services. They may import what command.intake may."""
