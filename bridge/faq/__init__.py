"""The help section: a bilingual FAQ catalogue and a matcher for customers' free-text questions."""

from bridge.faq.catalog import FaqCatalog, FaqCategory, FaqEntry, FaqLink, Localized
from bridge.faq.matching import FaqMatcher

__all__ = ["FaqCatalog", "FaqCategory", "FaqEntry", "FaqLink", "FaqMatcher", "Localized"]
