"""CalDAV provider: any CalDAV server (Fastmail, iCloud, Nextcloud, Radicale, ...) via the caldav library."""

from calmirror.caldav.discovery import DavCalendar
from calmirror.caldav.provider import CalDavProvider
from calmirror.caldav.wire import METHODS, RequestObserver

__all__ = ["METHODS", "CalDavProvider", "DavCalendar", "RequestObserver"]
