"""The demo city: a generated district, its people and resources, and a simulator that keeps it alive."""
