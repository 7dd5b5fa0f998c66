"""command/'s tables, one module per subject: reference data (reference), people (people), incidents with their
orders, events and action keys (incidents), the closed loop's records (loop), identity and access (access) and
notices, duty roster and handovers (comms) and the service catalogue (catalogue).
Importing the package maps every table, so `from command.core.models import Incident, Deadline` is the one way in;
the modules import only base (and SQLAlchemy/GeoAlchemy2), never another part of command/."""

from command.core.models.access import LOGIN_RESULTS, LoginAttempt, RevokedSession
from command.core.models.admin import AuditEntry, CalendarOverride
from command.core.models.base import Base, table_of
from command.core.models.catalogue import SERVICE_ITEM_TYPES, SERVICE_LEVELS, ServiceItem
from command.core.models.comms import DutyShift, Handover, Notice, NoticeRecipient
from command.core.models.incidents import SHORT_OF_WORKERS_SQL, Event, Incident, Order, RequestKey
from command.core.models.interop import Open311Client, Open311Request, PlatformMapping
from command.core.models.loop import (
    DEADLINE_KINDS,
    Callback,
    Deadline,
    DeadlineRule,
    ExtensionRequest,
    HotlineCategory,
    HotlineOutbox,
    IncidentLink,
    PatrolFinding,
    PatrolTask,
    PatrolVisit,
    Upload,
)
from command.core.models.people import ROLES, User, Worker
from command.core.models.petitions import PETITION_ROLES, PETITION_STATES, Petition
from command.core.models.privacy import ERASURE_KINDS, Erasure, ReporterView
from command.core.models.reference import Category, Department, RoutingRule
from command.core.models.standards import CapCategoryMap, CapMessage, GpsDevice

__all__ = [
    "DEADLINE_KINDS",
    "ERASURE_KINDS",
    "LOGIN_RESULTS",
    "PETITION_ROLES",
    "PETITION_STATES",
    "ROLES",
    "SERVICE_ITEM_TYPES",
    "SERVICE_LEVELS",
    "SHORT_OF_WORKERS_SQL",
    "AuditEntry",
    "Base",
    "CalendarOverride",
    "Callback",
    "CapCategoryMap",
    "CapMessage",
    "Category",
    "Deadline",
    "DeadlineRule",
    "Department",
    "DutyShift",
    "Erasure",
    "Event",
    "ExtensionRequest",
    "GpsDevice",
    "Handover",
    "HotlineCategory",
    "HotlineOutbox",
    "Incident",
    "IncidentLink",
    "LoginAttempt",
    "Notice",
    "NoticeRecipient",
    "Open311Client",
    "Open311Request",
    "Order",
    "PatrolFinding",
    "PatrolTask",
    "PatrolVisit",
    "Petition",
    "PlatformMapping",
    "ReporterView",
    "RequestKey",
    "RevokedSession",
    "RoutingRule",
    "ServiceItem",
    "Upload",
    "User",
    "Worker",
    "table_of",
]
