"""iCalendar feeds: building VCALENDARs, feed tokens and the HTTP routes that serve them.

A subpackage on purpose: a top-level `calendar` would shadow the standard library module that
aiohttp, apscheduler, dateutil and `datetime.strptime` import.
"""
