"""The current FAQ catalogue and its matcher, reloadable without a restart (SIGHUP)."""

from __future__ import annotations

import logging
from pathlib import Path

from bridge.errors import ConfigError
from bridge.faq.catalog import FaqCatalog
from bridge.faq.matching import FaqMatcher

log = logging.getLogger(__name__)


class FaqSource:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.catalog = self._read()
        self.matcher = FaqMatcher(self.catalog)

    def _read(self) -> FaqCatalog:
        return FaqCatalog.load(self.path) if self.path else FaqCatalog.shipped()

    def reload(self) -> bool:
        """Read the file again; on an error keep serving the previous catalogue."""
        try:
            catalog = self._read()
        except ConfigError as error:
            log.error("FAQ not reloaded, the previous one stays: %s", error)
            return False
        self.catalog, self.matcher = catalog, FaqMatcher(catalog)
        log.info("FAQ reloaded: %d categories", len(catalog.categories))
        return True
