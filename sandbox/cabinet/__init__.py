"""The cabinet emulator: the ModulKassa cabinet API (plus our device and emulator APIs) over SQLite.

Modules: ``cli`` (start/stop/serve/status), ``server`` (uvicorn), ``app`` (wiring), ``points`` /
``device`` / ``emu`` (endpoints), ``middleware`` (auth, counters, faults), ``transport`` (droppable
connections), ``db``, ``validation``, ``knobs``, ``counters``, ``config``, ``openapi_docs``.
"""
